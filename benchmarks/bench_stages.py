"""Time every pipeline stage on the default params in a throw-away copy of the project.

Targets: replicate (R=200, all presets) < 2 min; both training stages < 3 min and all stages
< 5 min; evaluate < 60 s; explain + report < 60 s; the benefit stages (train_benefit and
evaluate_benefit) < 3 min.
MLflow goes to a temporary SQLite database."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from project import copy_project

STAGES = [
    ["generate"],
    ["replicate"],
    ["features"],
    ["train", "responder"],
    ["train", "relapse"],
    ["train", "benefit"],
    ["evaluate-benefit"],
    ["evaluate"],
    ["explain"],
    ["report"],
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project, env = copy_project(Path(tmp))
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
        # the stages the 5-minute target was set for; `pipeline_seconds` adds the benefit ones
        "all_stages_seconds": round(sum(v for k, v in seconds.items() if "benefit" not in k), 1),
        "pipeline_seconds": round(sum(seconds.values()), 1),
        "explain_report_seconds": round(seconds["explain"] + seconds["report"], 1),
        "benefit_seconds": round(seconds["train_benefit"] + seconds["evaluate-benefit"], 1),
        "targets": {
            "replicate": 120,
            "train_both": 180,
            "all_stages": 300,
            "evaluate": 60,
            "explain_report": 60,
            "benefit": 180,
        },
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
