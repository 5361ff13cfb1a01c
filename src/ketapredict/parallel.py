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


# Below this many rows × tasks, starting worker processes (about a second each: they import
# LightGBM) costs more than the fits they would share.
MIN_WORK = 20_000


def workers_for(rows: int, tasks: int) -> int:
    """How many worker processes a batch of `tasks` fits on `rows` rows each deserves."""
    return default_workers() if rows * tasks >= MIN_WORK else 1


def map_ordered(
    fn: Callable[..., T],
    args: Sequence[tuple[Any, ...]],
    *,
    workers: int,
    progress: str | None = None,
) -> list[T]:
    """[fn(*a) for a in args], in `workers` processes when there is more than one task;
    `progress` names the work to show how far along it is (ketapredict.progress).

    Processes, not threads: LightGBM keeps its thread count in a process-global, and
    single-threaded fits in separate processes degrade gracefully when other jobs compete for
    the cores (the OS shares them out; no thread waits for a descheduled peer). The workers
    exit with the process that started them, even when it is killed outright."""
    if workers <= 1 or len(args) <= 1:
        results = (fn(*a) for a in args)
    else:
        from joblib.externals.loky import get_reusable_executor

        executor = get_reusable_executor(
            max_workers=min(workers, len(args)), initializer=init_worker, timeout=60, env=ONE_THREAD
        )
        results = executor.map(_star, [(fn, a) for a in args])
    if progress is None:
        return list(results)
    from ketapredict.progress import steps

    done = []
    with steps(progress, len(args)) as advance:
        for result in results:
            done.append(result)
            advance()
    return done


def _star(call: tuple[Callable[..., T], tuple[Any, ...]]) -> T:
    fn, a = call
    return fn(*a)


# A worker's numerical libraries get one thread each: the workers already use every core, and
# two BLAS threads per worker on two cores made each refit 40 % slower (measured).
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def init_worker(poll_seconds: float = 0.5) -> None:
    """In a worker: one thread per numerical library (ONE_THREAD, also for the libraries a
    forked worker inherits loaded), and an end at once when the process that started it is gone
    (killed outright), instead of computing results nobody will read. A worker holds nothing
    to clean up."""
    from threadpoolctl import threadpool_limits

    from ketapredict.processes import watch_parent

    os.environ.update(ONE_THREAD)
    threadpool_limits(1)

    watch_parent(lambda: os._exit(143), poll_seconds=poll_seconds)
