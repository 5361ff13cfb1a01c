"""Fixtures for the tracking tests: a real MLflow on SQLite in the test's temp dir, and a git
repository with one commit."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from ketapredict.environment import FAIL_FAST
from ketapredict.tracking.store import URI_ENV, tracking_uri


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No env URI, and cwd in the temp dir: any store MLflow picks by default lands there.
    The variables a model download sets are put back afterwards."""
    monkeypatch.delenv(URI_ENV, raising=False)
    for name in FAIL_FAST:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.chdir(tmp_path)
    yield
    leaked = mlflow.active_run()
    if leaked is not None:  # end it here, or MLflow's atexit hook would write to the real cwd
        mlflow.end_run("KILLED")
    assert leaked is None, "a run was left active"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    """A git repo with one empty commit, and that commit's sha."""
    root = tmp_path / "repo"
    root.mkdir()
    git = ["git", "-c", "user.email=a@b", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], cwd=root, check=True)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()
    return root, sha


def client(root: Path) -> MlflowClient:
    """A client on `root`'s store, for checking what was recorded."""
    return MlflowClient(tracking_uri=tracking_uri(root))
