"""The commands for a user's own cohort: check, schema, example-data (parse -> call).

No `from __future__ import annotations`: typer reads the commands' annotations at definition,
and they use the CLI's own `--root` option, passed in."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

SHOWN_PROBLEMS = 100  # on the terminal; --report holds them all


def add_intake_commands(
    app: typer.Typer,
    friendly_errors: Callable[..., Any],
    _paths: Callable[..., Any],
    err: Console,
    RootOption: Any,
) -> None:
    """Register the commands on the CLI's app (with its error handling, layout and console)."""

    @app.command()
    @friendly_errors
    def check(
        data: Annotated[
            list[Path],
            typer.Argument(
                help="Files or folders: patients, outcomes, visits (or responder, "
                "relapse) as .csv or .parquet, each named after its table."
            ),
        ],
        id_column: Annotated[
            str, typer.Option("--id", help="The column that identifies a patient.")
        ] = "patient_id",
        report: Annotated[
            Path | None, typer.Option("--report", help="Write every problem to this CSV file.")
        ] = None,
    ) -> None:
        """Check your own cohort against the input contract (docs/schema/): every problem with its
        file, row and column, and how to fix it; exit code 2 if there is any."""
        from ketapredict.errors import InputValidationError
        from ketapredict.intake.check import check as run_check
        from ketapredict.intake.check import write_report

        found = run_check(data, id_column=id_column)
        for note in found.notes:
            err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
        for problem in found.problems[:SHOWN_PROBLEMS]:
            err.print(problem.line(), markup=False, highlight=False, soft_wrap=True)
        if report is not None:
            write_report(found, report)
        if not found.ok:
            more = len(found.problems) - SHOWN_PROBLEMS
            rest = f" ({more} more not shown: see --report)" if more > 0 and report is None else ""
            raise InputValidationError(
                f"{len(found.problems)} problem(s) in the data{rest}; fix them and check again"
            )
        rows = ", ".join(f"{name} {len(frame)} rows" for name, frame in found.tables.items())
        err.print(f"ok: {found.shape.replace('_', ' ')} ({rows})", highlight=False)

    @app.command()
    @friendly_errors
    def schema(
        out: Annotated[Path, typer.Option("--out", help="Folder to write the schemas to.")] = Path(
            "docs/schema"
        ),
    ) -> None:
        """Write the input contract as Frictionless Table Schemas, one JSON file per table."""
        from ketapredict.intake.schema import write_schemas

        for path in write_schemas(out):
            typer.echo(path)

    @app.command(name="validate")
    @friendly_errors
    def validate_cmd(
        data: Annotated[
            list[Path],
            typer.Argument(help="The cohort with outcomes: files or folders, as for check."),
        ],
        model_uri: Annotated[
            str,
            typer.Option(
                "--model-uri",
                help="A registered model (models:/ketapredict-responder@champion, "
                "models:/ketapredict-relapse/3) or a model folder (models/responder).",
            ),
        ],
        out: Annotated[
            Path, typer.Option("--out", help="Folder for the tables and summary.json.")
        ] = Path("reports/validation"),
        recalibrate: Annotated[
            bool,
            typer.Option("--recalibrate", help="Also recalibrate in the large on this cohort."),
        ] = False,
        id_column: Annotated[
            str, typer.Option("--id", help="The column that identifies a patient.")
        ] = "patient_id",
        root: RootOption = None,
    ) -> None:
        """External validation: discrimination, calibration, decision curves and subgroups of
        a model on a cohort with outcomes (the evaluate stage's measures, no oracle)."""
        from ketapredict.config import load_params
        from ketapredict.intake import validate as v
        from ketapredict.score.models import load_one

        paths = _paths(root)
        params = load_params(paths.params)
        model, info = load_one(model_uri, root=paths.root)
        result = v.validate(
            data,
            model,
            features=params.features,
            evaluate=params.evaluate,
            id_column=id_column,
            recalibrate=recalibrate,
        )
        for line in v.describe(result):
            err.print(line, markup=False, highlight=False, soft_wrap=True)
        v.write(result, out, info)
        err.print(f"written: {out}/ (measures, subgroups, decision_curve, summary.json)")

    @app.command(name="example-data")
    @friendly_errors
    def example_data(
        out: Annotated[Path, typer.Argument(help="Folder to write the tables to.")],
        flat: Annotated[
            bool, typer.Option("--flat", help="One table per task instead of the three tables.")
        ] = False,
        parquet: Annotated[bool, typer.Option("--parquet", help="Parquet instead of CSV.")] = False,
        other_scale: Annotated[
            str | None,
            typer.Option("--other-scale", help="Put some patients on this scale (e.g. hdrs17)."),
        ] = None,
        share: Annotated[float, typer.Option("--share", help="Share of patients moved.")] = 0.3,
        root: RootOption = None,
    ) -> None:
        """Write the generated cohort as a user's cohort would come (no truth columns): the input
        contract filled in, to read, check and import (run `dvc repro` first)."""
        from ketapredict.intake.run import example

        for path in example(_paths(root), out, flat=flat, parquet=parquet, other_scale=other_scale,
                            share=share):  # fmt: skip
            typer.echo(path)
