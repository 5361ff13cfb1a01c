"""What runs and the registry share: where the store is, its URI scoped to a block, MLflow's
failures as one-line errors, the git commit, and the process that owns a run."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from ketapredict.errors import TrackingError, first_line, redact
from ketapredict.layout import Layout

URI_ENV = "MLFLOW_TRACKING_URI"
FIX = f"check {URI_ENV} (unset it to use <repo>/mlflow.db) and that its folder is writable"
PID_TAG, HOST_TAG = "ketapredict.pid", "ketapredict.host"


def tracking_uri(root: Path) -> str:
    """Where runs are recorded: ``$MLFLOW_TRACKING_URI`` if set, else ``<root>/mlflow.db``."""
    return os.environ.get(URI_ENV) or f"sqlite:///{Layout(Path(root).resolve()).mlflow_db}"


def git_commit(root: Path) -> str | None:
    """The HEAD commit of the repository at ``root``, or None outside git or without git."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and sha else None


def owner_tags() -> dict[str, str]:
    """The process that holds a run open: a run still RUNNING when it is gone was killed."""
    import socket

    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


_ROOT: ContextVar[Path | None] = ContextVar("ketapredict_project_root", default=None)


@contextmanager
def project(root: Path) -> Iterator[None]:
    """The project root of the open run, so that what is logged names paths relative to it."""
    token = _ROOT.set(Path(root).resolve())
    try:
        yield
    finally:
        _ROOT.reset(token)


def project_root() -> Path | None:
    """The root set by the innermost `project` block, or None outside one."""
    return _ROOT.get()


@contextmanager
def scoped_tracking_uri(uri: str) -> Iterator[None]:
    """Set MLflow's global URI for a block, then put both it and the env variable back.

    ``mlflow.set_tracking_uri`` also writes ``MLFLOW_TRACKING_URI`` into ``os.environ``; left
    there it would make the next ``tracking_uri(other_root)`` return this root's database.
    Only this package sets the global URI, so "back" means unset.
    """
    import mlflow

    previous_env = os.environ.get(URI_ENV)
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None unsets; MLflow allows it
        if previous_env is not None:
            os.environ[URI_ENV] = previous_env


@contextmanager
def translated(action: str, uri: str | None = None) -> Iterator[None]:
    """Turn MLflow, database and filesystem failures into a one-line TrackingError."""
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except (MlflowException, SQLAlchemyError, OSError) as exc:
        where = f" at {redact(uri)}" if uri else ""
        detail = redact(first_line(exc))
        raise TrackingError(f"MLflow could not {action}{where}: {detail}; {FIX}") from exc
