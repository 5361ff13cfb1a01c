"""A throw-away copy of the project (code, configs, default params) with its own MLflow
database, for benchmarks that run the real CLI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def copy_project(parent: Path, name: str = "project") -> tuple[Path, dict[str, str]]:
    """The copy's folder and the environment to run `ketapredict` in it."""
    project = parent / name
    project.mkdir()
    for folder in ("configs", "src"):
        shutil.copytree(
            ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "params.yaml", project / "params.yaml")
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}")
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DVC_NO_ANALYTICS="1")
    return project, env
