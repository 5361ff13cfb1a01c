"""Independent fits spread over processes, one thread each: results in input order, identical
whatever the number of workers (each task is deterministic and single-threaded)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def default_workers() -> int:
    """One worker per core this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def map_ordered(fn: Callable[..., T], args: Sequence[tuple[Any, ...]], *, workers: int) -> list[T]:
    """[fn(*a) for a in args], in `workers` processes when there is more than one task.

    Processes, not threads: LightGBM keeps its thread count in a process-global, and
    single-threaded fits in separate processes degrade gracefully when other jobs compete for
    the cores (the OS shares them out; no thread waits for a descheduled peer)."""
    if workers <= 1 or len(args) <= 1:
        return [fn(*a) for a in args]
    from joblib import Parallel, delayed

    jobs = min(workers, len(args))
    return Parallel(n_jobs=jobs, backend="loky")(delayed(fn)(*a) for a in args)
