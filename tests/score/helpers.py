"""Scoring test helpers: patients from the tiny project, and the CLI run in this process or in
a process of its own."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ketapredict.features import raw_columns
from tests.helpers import cli, env

LOCAL = ("--model-uri", "models/responder", "--model-uri", "models/relapse")


def patients(project: Path, task: str = "responder", n: int = 30) -> pd.DataFrame:
    rows = pd.read_parquet(project / "data" / "features" / f"{task}.parquet").head(n)
    return rows[["patient_id", *raw_columns(task)]].reset_index(drop=True)


def as_csv(
    project: Path, folder: Path, edit: Callable[[pd.DataFrame], pd.DataFrame] | None = None
) -> Path:
    """The first 30 patients, edited, as folder/patients.csv."""
    frame = patients(project)
    path = folder / "patients.csv"
    (edit(frame) if edit else frame).to_csv(path, index=False)
    return path


def put(row: int, column: str, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({column: object})
        frame.loc[row - 1, column] = value
        return frame

    return edit


def treat(row: int, drug: str, route: str, dose: float) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({"dose": object})
        frame.loc[row - 1, ["drug", "route", "dose"]] = [drug, route, dose]
        return frame

    return edit


class Ran(NamedTuple):
    returncode: int
    stderr: str


def score(cwd: Path, *args: str) -> Ran:
    """`ketapredict score` in this process, as a user runs it in `cwd`: no interpreter start,
    imports paid once. The logging and working folder it sets are put back."""
    from typer.testing import CliRunner

    from ketapredict.cli import app

    logger = logging.getLogger()
    handlers, level = logger.handlers[:], logger.level
    try:
        with contextlib.chdir(cwd):
            result = CliRunner().invoke(
                app, ["score", *args], env={"MLFLOW_TRACKING_URI": None, "COLUMNS": "200"}
            )
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback, where the CLI should print one line
    return Ran(result.exit_code, result.stderr)


def score_process(
    cwd: Path, *args: str, file_size_limit: int | None = None, **env_extra: str
) -> subprocess.CompletedProcess[str]:
    """`python -m ketapredict score` in a process of its own, for exit codes, signals and the
    environment; `file_size_limit`: no file it writes may grow beyond so many bytes (a disk
    that fills up: writes fail with EFBIG, Python ignores SIGXFSZ)."""
    if not env_extra and file_size_limit is None:
        return cli(["score", *args], cwd)

    def limit() -> None:
        if file_size_limit is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "ketapredict", "score", *args], preexec_fn=limit,
        cwd=cwd, env={**env(), **env_extra}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
