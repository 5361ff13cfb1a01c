"""Time every pipeline stage on the default params in a throw-away copy of the project.

Targets: replicate (R=200, all presets) < 2 min (issue 3); both training stages < 3 min and
all stages < 5 min (issue 4); evaluate < 60 s (issue 5); explain + report < 60 s (issue 6).
MLflow goes to a temporary SQLite database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = [
    ["generate"],
    ["replicate"],
    ["features"],
    ["train", "responder"],
    ["train", "relapse"],
    ["evaluate"],
    ["explain"],
    ["report"],
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        for name in ("configs", "src"):
            shutil.copytree(
                ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        shutil.copy(ROOT / "params.yaml", project / "params.yaml")
        env = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}")
        env.update(MLFLOW_DISABLE_TELEMETRY="true", DVC_NO_ANALYTICS="1")
        seconds: dict[str, float] = {}
        for stage in STAGES:
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "ketapredict", *stage], cwd=project, env=env, check=True,
                capture_output=True,
            )  # fmt: skip
            seconds["_".join(stage)] = round(time.perf_counter() - start, 1)
    result = {
        "benchmark": "stages",
        "seconds": seconds,
        "train_both_seconds": round(seconds["train_responder"] + seconds["train_relapse"], 1),
        "all_stages_seconds": round(sum(seconds.values()), 1),
        "explain_report_seconds": round(seconds["explain"] + seconds["report"], 1),
        "targets": {
            "replicate": 120,
            "train_both": 180,
            "all_stages": 300,
            "evaluate": 60,
            "explain_report": 60,
        },
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
