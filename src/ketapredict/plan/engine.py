"""The study's engine: cells as Dask tasks on a LocalCluster sized to the machine, or on an
existing cluster by address, each finished cell stored at once (one small Parquet file per
cell under the study's folder), so an interrupted or extended study computes only what is
missing; a cell that raises is reported with its parameters and the others go on."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ketapredict.errors import KetapredictError, first_line, redact
from ketapredict.io import read_json, read_parquet, write_json, write_parquet
from ketapredict.plan.cells import Cell

log = logging.getLogger(__name__)
ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"
Progress = Callable[[int, int, float], None]  # cells done, cells in all, seconds so far
# A cell is seconds of single-threaded Python: the workers' statistical profiler (a stack
# sample every 10 ms) and 0.5-s system monitor cost about a fifth of that when both cores
# are busy (measured: 2 workers 1.59x the rate of 1 with them, see benchmarks/bench_plan.py).
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.interval": "5s",
}


CONNECT_TIMEOUT = "10s"


class SchedulerError(KetapredictError):
    """The Dask scheduler asked for cannot be reached."""


@dataclass
class Outcome:
    """What a run of the study did: cells found stored, computed, failed (key -> error)."""

    stored: int = 0
    computed: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 0


@contextlib.contextmanager
def client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Dask client: of the cluster at `scheduler` (or $DASK_SCHEDULER_ADDRESS), else of a
    LocalCluster on loopback, one single-threaded worker process per core (or `workers`)."""
    import dask
    from dask.distributed import Client, LocalCluster

    address = scheduler or os.environ.get(ADDRESS_ENV)
    if address:
        try:
            connected = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            where = "--scheduler" if scheduler else f"${ADDRESS_ENV}"
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {redact(address)} ({first_line(exc)}); "
                f"start it, or leave {where} unset to run on this machine"
            ) from None
        with connected as c:
            yield c
        return
    n = workers or len(os.sched_getaffinity(0))
    # the scheduler and nannies run in this process: their INFO lines (addresses, start and
    # stop) would fill the stage's log between our own progress lines
    logging.getLogger("distributed").setLevel(logging.WARNING)
    with (
        dask.config.set(QUIET_WORKERS),
        LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as c,
    ):  # fmt: skip
        yield c


def stored_cells(folder: Path) -> pd.DataFrame:
    """Every stored cell's result row (empty frame if none)."""
    files = sorted(folder.glob("*.parquet"))
    if not files:
        return pd.DataFrame()
    return pd.concat([read_parquet(f) for f in files], ignore_index=True)


def run_cells(
    dask: Any,
    cells: Sequence[Cell],
    work: Callable[..., dict[str, Any]],
    shared: dict[tuple[str, ...], tuple[Any, ...]],
    folder: Path,
    *,
    progress: Progress | None = None,
    key: Callable[[Cell], tuple[str, ...]] = lambda c: (c.design, c.scenario),
) -> Outcome:
    """Compute each cell not yet stored in `folder`: work(cell, *shared[key(cell)])
    on the cluster (`shared`: futures or values), each result written here as it arrives
    (a row each: the client's memory stays flat however large the grid). Failures are
    recorded in folder/failed/ and logged with the cell's parameters."""
    from dask.distributed import as_completed

    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    missing = [c for c in cells if not (folder / f"{c.file}.parquet").exists()]
    workers = len(dask.scheduler_info()["workers"])
    outcome = Outcome(stored=len(cells) - len(missing), workers=workers)
    futures = {}
    for c in missing:
        args = shared[key(c)]
        futures[dask.submit(work, c, *args, key=f"cell-{c.file}", pure=False)] = c
    for done, future in enumerate(as_completed(futures), start=1):
        cell = futures[future]
        failed = folder / "failed" / f"{cell.file}.json"
        try:
            row = future.result()
        except Exception as exc:  # any cell's error is reported, not fatal to the others
            outcome.failed[cell.key] = first_line(exc)
            write_json({"cell": cell.key, "error": first_line(exc)}, failed)
            log.error("cell %s failed: %s", cell.key, first_line(exc))
        else:
            write_parquet(pd.DataFrame([row]), folder / f"{cell.file}.parquet")
            failed.unlink(missing_ok=True)
            outcome.computed += 1
        future.release()
        if progress is not None:
            progress(done, len(missing), time.perf_counter() - started)
    outcome.seconds = time.perf_counter() - started
    return outcome


def failures(folder: Path) -> dict[str, str]:
    """The failed cells' keys and errors recorded in `folder` (by this run or an earlier one)."""
    found = [read_json(p) for p in sorted((folder / "failed").glob("*.json"))]
    return {rec["cell"]: rec["error"] for rec in found}
