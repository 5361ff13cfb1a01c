"""The command line: a command per DVC stage, plus `score` and `trials`; bodies parse and call."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from ketapredict import RESEARCH_NOTICE, __version__
from ketapredict.contract import AnyTask
from ketapredict.environment import set_defaults
from ketapredict.errors import KetapredictError, redact
from ketapredict.intake.commands import add_intake_commands
from ketapredict.layout import Layout, find_root
from ketapredict.score.options import Comparator, Format, OnDuplicate, OnInvalid, TaskChoice

if TYPE_CHECKING:
    from ketapredict.cohort.arms import Arm
    from ketapredict.config import Params


class _Group(typer.core.TyperGroup):
    """The commands, flags shown bare in --help (typer gives each one, --help too, `<bool>`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in (self, *self.commands.values()):
            flags = [p for p in command.params if getattr(p, "is_flag", False)]
            help_option = command.get_help_option(typer.Context(command))
            for flag in [*flags, *([help_option] if help_option else [])]:
                flag.metavar = ""


app = typer.Typer(
    cls=_Group,
    name="ketapredict",
    help=f"Ketamine outcome prediction on synthetic trial-modeled cohorts. {RESEARCH_NOTICE}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
ROUTE_NAMES = {"iv": "IV", "im": "IM"}

RootOption = Annotated[
    Path | None,
    typer.Option("--root", help="Project root (default: nearest folder with params.yaml)."),
]


def _setup_logging(verbose: bool) -> None:
    handler = RichHandler(console=err, show_path=False, show_time=False)
    handler.addFilter(_redact_record)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[handler],
        force=True,
    )
    for noisy in ("mlflow", "alembic", "urllib3", "git", "matplotlib", "shap"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _redact_record(record: logging.LogRecord) -> bool:
    """Log lines (ours and MLflow's) without credentials in URIs."""
    message = record.getMessage()
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    return True


def friendly_errors(func: F) -> F:
    """Turn a KetapredictError into one red line on stderr and its exit code, no traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KetapredictError as exc:
            # the message may quote user values such as "[x]": never read it as markup
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def stage_command(func: F) -> F:
    """A DVC stage's command: it ends (unwinding, so its MLflow run is closed as FAILED) when
    the process that started it dies, and on SIGTERM."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ketapredict.processes import die_with_parent

        die_with_parent()
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    set_defaults()
    _setup_logging(verbose)


def _paths(root: Path | None) -> Layout:
    return Layout(root.resolve() if root else find_root())


def load_params(path: Path) -> Params:
    from ketapredict.config import load_params as load  # pydantic: not for score and trials

    return load(path)


@app.command()
@friendly_errors
@stage_command
def generate(root: RootOption = None) -> None:
    """Generate the synthetic cohort (data/synthetic/*.parquet) from params.yaml."""
    from ketapredict.stages import generate as stage

    paths = _paths(root)
    stage.run(paths, load_params(paths.params).generate)


@app.command()
@friendly_errors
@stage_command
def replicate(root: RootOption = None) -> None:
    """Simulate each preset trial and compare with its published figures (reports/trials/)."""
    from ketapredict.stages import replicate as stage

    paths = _paths(root)
    params = load_params(paths.params)
    stage.run(paths, params.replicate, params.generate.scenario)


@app.command()
@friendly_errors
@stage_command
def features(root: RootOption = None) -> None:
    """Build the responder and relapse tables and the held-out split (data/features/)."""
    from ketapredict.stages import features as stage

    paths = _paths(root)
    params = load_params(paths.params)
    stage.run(paths, params.features, params.data)


@app.command(name="train")
@friendly_errors
@stage_command
def train_cmd(task: Annotated[AnyTask, typer.Argument()], root: RootOption = None) -> None:
    """Tune, fit, log, register and gate one task's models (MLflow; models/<task>)."""
    paths = _paths(root)
    params = load_params(paths.params)
    if task == "benefit":
        from ketapredict.stages import train_benefit

        train_benefit.run(paths, params.benefit)
        return
    from ketapredict.stages import train as stage

    stage.run(paths, task, params.train, label=params.features.label(task))


@app.command(name="evaluate-benefit")
@friendly_errors
@stage_command
def evaluate_benefit(root: RootOption = None) -> None:
    """Judge every benefit learner against the true benefit; prognostic or predictive labels."""
    from ketapredict.stages import evaluate_benefit as stage

    paths = _paths(root)
    stage.run(paths, load_params(paths.params).benefit)


@app.command()
@friendly_errors
@stage_command
def plan(
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Address of an existing Dask scheduler (default: $DASK_SCHEDULER_ADDRESS, "
            "else a LocalCluster on this machine).",
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="LocalCluster workers (default: one per core).")
    ] = None,
    root: RootOption = None,
) -> None:
    """How many patients? The simulation study of params.yaml's plan section, on Dask;
    resumable: stored cells are not computed again."""
    from ketapredict.stages import plan as stage

    paths = _paths(root)
    with _plan_progress() as progress:
        stage.run(paths, load_params(paths.params), scheduler=scheduler, workers=workers,
                  progress=progress)  # fmt: skip


@contextmanager
def _plan_progress() -> Iterator[Callable[[int, int, float], None]]:
    """Cells done, their rate and the time left: a bar on a terminal, log lines otherwise."""
    log = logging.getLogger("ketapredict.plan")
    if not err.is_terminal:

        def line(done: int, total: int, seconds: float) -> None:
            if done == total or done % max(1, total // 10) == 0:
                rate = done / seconds if seconds else 0.0
                left = (total - done) / rate if rate else float("nan")
                log.info("plan: %d of %d cells, %.2f cells/s, about %.0f s left",
                         done, total, rate, left)  # fmt: skip

        yield line
        return
    from rich import progress as rp

    columns = ("cells", rp.BarColumn(), rp.MofNCompleteColumn(),
               rp.TextColumn("{task.fields[rate]}"), rp.TimeRemainingColumn())  # fmt: skip
    with rp.Progress(*columns, console=err, transient=True) as bar:
        job = bar.add_task("cells", total=None, rate="")

        def update(done: int, total: int, seconds: float) -> None:
            rate = f"{done / seconds:.2f} cells/s" if seconds else ""
            bar.update(job, completed=done, total=total, rate=rate)

        yield update


@app.command()
@friendly_errors
@stage_command
def evaluate(root: RootOption = None) -> None:
    """Evaluate both models on the held-out test data against the oracle (reports/metrics.json)."""
    from ketapredict.stages import evaluate as stage

    paths = _paths(root)
    stage.run(paths, load_params(paths.params).evaluate)


@app.command()
@friendly_errors
@stage_command
def explain(root: RootOption = None) -> None:
    """SHAP explanations of the models this run trained, checked against the true effects."""
    from ketapredict.stages import explain as stage

    paths = _paths(root)
    load_params(paths.params)  # reads no params, but a broken params.yaml stops every stage
    stage.run(paths)


@app.command()
@friendly_errors
@stage_command
def report(root: RootOption = None) -> None:
    """Write the model card (reports/model_card.html) from the run's outputs."""
    from ketapredict.contract import TASKS
    from ketapredict.stages import report as stage

    paths = _paths(root)
    params = load_params(paths.params)
    labels = {task: params.features.label(task) for task in TASKS}
    stage.run(
        paths,
        cohorts=params.generate.cohorts,
        labels=labels,
        threshold=params.benefit.policy_threshold,
    )
    from ketapredict.stages import replicate

    replicate.ensure_logged(paths, params.replicate, params.generate.scenario)


@app.command()
@friendly_errors
def score(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="Patients: CSV or Parquet.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Scores: .csv or .parquet.")],
    task: Annotated[
        TaskChoice | None,
        typer.Option(
            help="Default: both if the input has pct_change_end and remission_end, else "
            "responder. benefit: the estimated benefit of ketamine over --comparator."
        ),
    ] = None,
    comparator: Annotated[
        Comparator | None,
        typer.Option(help="With --task benefit: what the benefit is against (default saline)."),
    ] = None,
    model_uri: Annotated[
        list[str] | None,
        typer.Option(
            metavar="<folder|uri>",
            help="Model folder (models/responder) or MLflow URI; repeat for both "
            "tasks (default: models:/ketapredict-<task>@champion)",
        ),
    ] = None,
    explain: Annotated[int, typer.Option(min=0, help="Top K reasons per patient and task.")] = 0,
    on_invalid: Annotated[
        OnInvalid, typer.Option(help="fail: write nothing; skip: score the valid rows.")
    ] = "fail",
    on_duplicate: Annotated[
        OnDuplicate,
        typer.Option(
            help="flag: score, duplicate_id true; fail: a repeated patient_id is an invalid row, "
            "as --on-invalid says."
        ),
    ] = "flag",
    rejects: Annotated[
        Path | None, typer.Option(help="Rejects file for skip (default: OUTPUT-stem.rejects.csv)")
    ] = None,
    output_format: Annotated[
        Format | None, typer.Option("--format", help="Default: the output's extension.")
    ] = None,
    input_format: Annotated[
        Format | None, typer.Option(help="Default: the input's extension.")
    ] = None,
    chunk_size: Annotated[int, typer.Option(min=1, help="Rows per chunk (about).")] = 100_000,
    root: RootOption = None,
) -> None:
    """Score new patients with the champion models: probabilities, risk bands, out-of-range
    flags, reasons; with --task benefit, each one's estimated benefit of ketamine over the
    comparator, with the benefit observed in its band. Research use only: not for clinical
    decisions."""
    from ketapredict.score.options import Options
    from ketapredict.score.run import run

    options = Options(input=input_path, output=output, task=task, explain=explain,
                      model_uris=tuple(model_uri or ()), on_invalid=on_invalid,
                      on_duplicate=on_duplicate, input_format=input_format,
                      output_format=output_format, rejects=rejects, chunk_rows=chunk_size,
                      comparator=comparator)  # fmt: skip
    summary = run(options, root=root, console=err)
    err.print(summary.line(), markup=False, highlight=False, soft_wrap=True)


@app.command()
@friendly_errors
def trials(root: RootOption = None) -> None:
    """List the trial design presets in configs/trials/."""
    from ketapredict.cohort.specs import load_specs

    specs = load_specs(_paths(root))
    table = Table("name", "design", "published N", "scale", "arms: dose per session, course")
    for spec in specs.trials.values():
        arms = "\n".join(_arm(a) for a in spec.arms)
        table.add_row(spec.name, spec.design, str(spec.published_n), spec.scale, arms)
    Console().print(table)


def _arm(arm: Arm) -> str:
    """E.g. 'ketamine: 0.5 mg/kg IV, 6 sessions every 2.2 days' (intranasal doses are mg)."""
    drug = "" if arm.drug == arm.name else f"{arm.drug} "
    dose = f"{arm.dose:g} {'mg' if arm.route == 'intranasal' else 'mg/kg'} " if arm.dose else ""
    text = f"{arm.name}: {drug}{dose}{ROUTE_NAMES.get(arm.route, arm.route)}"
    if arm.sessions > 1:
        text += f", {arm.sessions} sessions every {arm.interval_days:g} days"
    if arm.maintenance:
        share = f" for {arm.maintenance.probability:.0%}" if arm.maintenance.probability < 1 else ""
        text += f", then every {arm.maintenance.interval_days:g} days{share}"
    return text


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


add_intake_commands(app, friendly_errors, _paths, err, RootOption)


def main() -> None:
    app(prog_name="ketapredict")


if __name__ == "__main__":
    sys.exit(main())
