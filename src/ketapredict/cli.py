"""The command line: one command per DVC stage, plus `trials`. Bodies are short: parse, call."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from ketapredict import RESEARCH_NOTICE, __version__
from ketapredict.config import Paths, find_root, load_params
from ketapredict.errors import KetapredictError

app = typer.Typer(
    name="ketapredict",
    help=f"Ketamine outcome prediction on synthetic trial-modeled cohorts. {RESEARCH_NOTICE}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

RootOption = Annotated[
    Path | None,
    typer.Option("--root", help="Project root (default: nearest folder with params.yaml)."),
]


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
        force=True,
    )
    for noisy in ("mlflow", "alembic", "urllib3", "git", "matplotlib", "shap"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def friendly_errors(func: F) -> F:
    """Turn a KetapredictError into one red line on stderr and its exit code, no traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KetapredictError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    _setup_logging(verbose)


def _paths(root: Path | None) -> Paths:
    return Paths(root.resolve() if root else find_root())


@app.command()
@friendly_errors
def generate(root: RootOption = None) -> None:
    """Generate the synthetic cohort (data/synthetic/*.parquet) from params.yaml."""
    from ketapredict.stages import generate as stage

    paths = _paths(root)
    stage.run(paths, load_params(paths.params).generate)


@app.command()
@friendly_errors
def replicate(root: RootOption = None) -> None:
    """Simulate each preset trial and compare with its published figures (reports/trials/)."""
    from ketapredict.stages import replicate as stage

    paths = _paths(root)
    stage.run(paths, load_params(paths.params).replicate)


@app.command()
@friendly_errors
def features(root: RootOption = None) -> None:
    """Build the responder and relapse tables and the held-out split (data/features/)."""
    from ketapredict.stages import features as stage

    paths = _paths(root)
    stage.run(paths, load_params(paths.params).features)


@app.command(name="train")
@friendly_errors
def train_cmd(
    task: Annotated[str, typer.Argument(help="responder or relapse")],
    root: RootOption = None,
) -> None:
    """Tune, fit, log, register and gate one task's models (MLflow; models/<task>)."""
    from ketapredict.errors import ConfigError
    from ketapredict.features import TASKS
    from ketapredict.stages import train as stage

    if task not in TASKS:
        raise ConfigError(f"unknown task {task!r}; use one of: {', '.join(TASKS)}")
    paths = _paths(root)
    stage.run(paths, load_params(paths.params), task)  # type: ignore[arg-type]


@app.command()
@friendly_errors
def trials(root: RootOption = None) -> None:
    """List the trial design presets in configs/trials/."""
    from ketapredict.stages.generate import load_specs

    specs = load_specs(_paths(root))
    table = Table("name", "design", "published N", "scale", "arms")
    for spec in specs.trials.values():
        arms = ", ".join(f"{a.name} ({a.drug} {a.route} {a.dose:g})" for a in spec.arms)
        table.add_row(spec.name, spec.design, str(spec.published_n), spec.scale, arms)
    Console().print(table)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app(prog_name="ketapredict")


if __name__ == "__main__":
    sys.exit(main())
