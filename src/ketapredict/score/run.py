"""`ketapredict score`'s entry point: check the options, start the model downloads, stream."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ketapredict.contract import AnyTask
from ketapredict.layout import find_root
from ketapredict.processes import sigterm_unwinds
from ketapredict.score.models import Prefetch, prefetch_uris
from ketapredict.score.options import Options, Summary, check

if TYPE_CHECKING:
    from rich.console import Console


def run(options: Options, *, root: Path | None, console: Console | None = None) -> Summary:
    """Score options.input into options.output; every file appears whole or not at all.
    Registry models come from the cache beside the registry or download in a child process
    while this one reads the input; the registry is the project's (`root`, else the nearest
    folder with params.yaml; without one, none unless MLFLOW_TRACKING_URI names one, and a
    model folder is enough). SIGTERM unwinds the run, so its temporary files go; on a
    terminal `console`, a progress bar."""
    started = time.perf_counter()
    check(options)
    root = root.resolve() if root else _nearest_project()
    tasks = options.tasks
    if tasks is None and not options.model_uris:  # which champions: the header says
        tasks = _header_tasks(options)
    with Prefetch(prefetch_uris(tasks, options.model_uris), root=root) as fetched:
        # Arrow and pandas are imported once a download (if any) is on its way in the child
        from ketapredict.score.stream import score_file

        with sigterm_unwinds(), _progress_bar(console) as progress:
            return score_file(options, fetched=fetched, progress=progress, started=started)


def _nearest_project() -> Path | None:
    found = find_root()
    return found if (found / "params.yaml").is_file() else None


def _header_tasks(options: Options) -> tuple[AnyTask, ...]:
    """The tasks the input's header asks for (both if it has the relapse model's inputs):
    read first, so that a run fetches no champion it does not use."""
    from ketapredict.score.read import open_source
    from ketapredict.score.validate import default_tasks

    return default_tasks(open_source(options.input, options.input_format).names)


@contextmanager
def _progress_bar(console: Console | None) -> Iterator[Callable[[int, int], None] | None]:
    """Rows done of the estimated total, on a terminal; None (silent) otherwise."""
    if console is None or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = ("scoring", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        job = bar.add_task("scoring", total=None)
        yield lambda done, total: bar.update(job, completed=done, total=total)
