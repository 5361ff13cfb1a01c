"""The planner's engine on this machine: the default grid's cells (params.yaml's plan) with
1 and with 2 LocalCluster workers, each run in a fresh store, then a grid twice as large.
Targets (issue 16): 2 workers at >= 1.7x the rate of 1; scheduling overhead < 5 % of cell
time; a worker's peak memory flat as the grid grows. Prints JSON."""

from __future__ import annotations

import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ketapredict.config import load_params
from ketapredict.layout import Layout
from ketapredict.plan import engine, study
from ketapredict.plan.cells import make_reference

ROOT = Path(__file__).resolve().parents[1]
WORKERS = (1, 2)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(paths: Layout, params, workers: int, folder: Path) -> dict[str, float]:
    plan = study.make_study(paths, params)
    cells = plan.cells
    with engine.client(workers=workers) as dask:
        specs = dask.scatter(plan.specs[cells[0].scenario], broadcast=True)
        shared = {}
        for design in plan.plan.designs:
            shared[(design, cells[0].scenario)] = (specs, dask.submit(
                make_reference, specs, design, plan.plan.population, plan.mix,
                plan.plan.seed, plan.settings,
            ))  # fmt: skip
        dask.gather([f for _, f in shared.values()])  # the references are not cell time
        started = time.perf_counter()
        outcome = engine.run_cells(dask, cells, study._work(plan), shared, folder)
        wall = time.perf_counter() - started
        peaks = dask.run(_peak_rss_mb)
    busy = float(engine.stored_cells(folder)["seconds"].sum())
    return {
        "workers": workers,
        "cells": len(cells),
        "failed": len(outcome.failed),
        "wall_seconds": round(wall, 2),
        "cells_per_second": round(len(cells) / wall, 3),
        "cell_seconds": round(busy, 2),
        # what the cluster spent beyond the cells themselves: scheduling, transfers, the tail
        "overhead_share": round((wall * workers - busy) / busy, 4),
        "worker_peak_rss_mb": round(max(peaks.values()), 1),
    }


def main() -> None:
    paths = Layout(ROOT)
    params = load_params(paths.params)
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        for workers in WORKERS:
            runs.append(_run(paths, params, workers, Path(tmp) / f"w{workers}"))
            shutil.rmtree(Path(tmp) / f"w{workers}")
        doubled = params.plan.model_copy(update={"replicates": 2 * params.plan.replicates})
        bigger = params.model_copy(update={"plan": doubled})
        runs.append(_run(paths, bigger, 2, Path(tmp) / "double"))
    one, two, double = runs
    print(json.dumps({
        "benchmark": "plan",
        "runs": runs,
        "speedup_2_workers": round(two["cells_per_second"] / one["cells_per_second"], 2),
        "overhead_share_2_workers": two["overhead_share"],
        "worker_peak_rss_mb_grid_x1_x2": [two["worker_peak_rss_mb"], double["worker_peak_rss_mb"]],
    }, indent=2))  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
