"""Helpers for tests that run the real CLI and the real `dvc repro` in a throw-away project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

TINY_PARAMS: dict[str, Any] = {
    "data": {"source": "synthetic", "folder": "data/own", "id_column": "patient_id"},
    "generate": {
        "seed": 7,
        "scenario": "literature",
        "cohorts": {"zarate2006": 80, "murrough2013": 150, "sustain1": 300, "realworld": 800},
    },
    "replicate": {"seed": 1, "replications": 10, "population_size": 2000},
    "features": {
        "seed": 11,
        "test_fraction": 0.2,
        "responder_label": {"visit": "24h", "threshold": 0.5},
        "relapse_horizon_days": 28,
    },
    "train": {
        "seed": 5,
        "cv_folds": 3,
        "max_trees": 200,
        "early_stopping_rounds": 20,
        "search": {
            "candidates": 2,
            "num_leaves": [4, 7],
            "learning_rate": [0.1],
            "min_child_samples": [20],
            "reg_lambda": [1.0],
            "feature_fraction": [1.0],
        },
        "gate": {
            "min_auroc": 0.5,
            "max_brier": 0.3,
            "calibration_slope": [0.1, 5.0],
            "champion_tolerance": 0.005,
        },
    },
    "evaluate": {
        "seed": 3,
        "bootstrap_resamples": 200,
        "optimism_resamples": 10,
        "subgroup_min_rows": 40,
        "threshold_step": 0.05,
    },
    "benefit": {
        "seed": 7,
        "cv_folds": 3,
        "bootstrap_resamples": 200,
        "policy_threshold": 0.2,
        "role_permutations": 10,
    },
    "plan": {
        "seed": 16,
        "grid": "default",
        "sizes": [80, 160],
        "designs": ["pooled"],
        "scenarios": ["literature"],
        "learners": ["logistic", "penalized_logistic", "lightgbm"],
        "benefit_learners": ["x_learner"],
        "replicates": 2,
        "population": 3000,
        "lightgbm_candidates": 1,
    },
}


def env() -> dict[str, str]:
    out = dict(os.environ)
    out.update(
        PATH=f"{BIN}{os.pathsep}{out.get('PATH', '')}",
        MLFLOW_DISABLE_TELEMETRY="true",
        DVC_NO_ANALYTICS="1",
        COLUMNS="200",
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@example.org",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@example.org",
    )
    out.pop("MLFLOW_TRACKING_URI", None)
    return out


def run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env(), capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def cli(args: list[str], cwd: Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "ketapredict", *args], cwd, check=check)


def mlflow_models_predict(project: Path, inputs: Path, uri: str) -> Any:
    """`mlflow models predict` of `uri` from the project's registry on a CSV of inputs, as a
    user would run it: its predictions as a frame."""
    import json

    import pandas as pd

    out = inputs.with_suffix(".predictions.json")
    result = subprocess.run(
        [str(BIN / "mlflow"), "models", "predict", "-m", uri, "-i", str(inputs), "-t", "csv",
         "--env-manager", "local", "-o", str(out)],
        env={**env(), "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"},
        capture_output=True, text=True, timeout=300, cwd=inputs.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return pd.DataFrame(json.loads(out.read_text())["predictions"])


def make_project(tmp: Path, params: dict[str, Any] | None = None, git: bool = False) -> Path:
    """A copy of the project (code, configs, dvc.yaml) with tiny params; optionally a git repo."""
    project = tmp / "project"
    project.mkdir()
    for name in ("configs", "src"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", ".dvcignore", ".gitignore"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "data" / "own", project / "data" / "own")  # a user's cohort: none
    (project / "params.yaml").write_text(yaml.safe_dump(params or TINY_PARAMS, sort_keys=False))
    if git:
        run(["git", "init", "-q", "-b", "main"], project)
        run([str(BIN / "dvc"), "init", "-q"], project)
        # the plots' templates and the offline page, which dvc.yaml's plots name
        shutil.copytree(ROOT / ".dvc" / "plots", project / ".dvc" / "plots")
        shutil.copy(ROOT / ".dvc" / "config", project / ".dvc" / "config")
        run(["git", "add", "-A"], project)
        run(["git", "commit", "-q", "-m", "tiny project"], project)
    return project


def own_data_pipeline(tmp: Path, *, flat: bool) -> Path:
    """A tiny project whose generated cohort is exported as a user's cohort (no truth, a third
    of the patients on HDRS-17), then `dvc repro` with `data.source: files` end to end."""
    project = make_project(tmp, git=True)
    run([str(BIN / "dvc"), "repro", "features"], project, check=True)
    export = ["example-data", "data/own", "--other-scale", "hdrs17", "--share", "0.3"]
    result = cli([*export, *(["--flat"] if flat else [])], project)
    assert result.returncode == 0, result.stderr
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["source"] = "files"
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run([str(BIN / "dvc"), "repro"], project)
    return project
