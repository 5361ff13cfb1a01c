"""Training under CPU contention: `ketapredict train responder` alone, then two of them at once
(two projects, each with its own MLflow database), on the default params.

Alone and the pair alternate REPEATS times (the data were just written, so no warm-up);
medians and ranges. Target:
the concurrent pair finishes within 2.5x the time of one alone on 2 cores (perfect sharing of
2 cores between two jobs that each use both is 2x). Multi-threaded LightGBM fits
collapsed here (OpenMP threads spin-waiting for descheduled peers: 26-50 min instead of 20 s);
single-threaded fits spread over processes degrade in proportion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from project import copy_project
from spread import machine, spread

TRAIN = ["train", "responder"]
REPEATS = 3


def _project(tmp: Path, name: str) -> tuple[Path, dict[str, str]]:
    project, env = copy_project(tmp, name)
    for stage in (["generate"], ["features"]):
        _ketapredict(stage, project, env).wait()
    return project, env


def _ketapredict(args: list[str], project: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ketapredict", *args], cwd=project, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _timed(jobs: list[tuple[Path, dict[str, str]]]) -> float:
    start = time.perf_counter()
    running = [_ketapredict(TRAIN, project, env) for project, env in jobs]
    if any(p.wait() != 0 for p in running):
        raise SystemExit("training failed")
    return time.perf_counter() - start


def main() -> None:
    measured = machine()
    with tempfile.TemporaryDirectory() as tmp:
        a, b = _project(Path(tmp), "a"), _project(Path(tmp), "b")
        runs = [(_timed([a]), _timed([a, b])) for _ in range(REPEATS)]
    result = {
        "benchmark": "contention",
        "machine": measured,
        "cores": len(os.sched_getaffinity(0)),
        "train_responder_alone_seconds": spread([alone for alone, _ in runs], digits=1),
        "two_concurrent_seconds": spread([pair for _, pair in runs], digits=1),
        "ratio": spread([pair / alone for alone, pair in runs]),
        "target_ratio": 2.5,
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
