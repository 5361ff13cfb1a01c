"""`ketapredict score`'s entry point: check the options, start the model downloads, stream."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ketapredict.processes import sigterm_unwinds
from ketapredict.score.models import Prefetch, prefetch_uris
from ketapredict.score.options import Options, Summary, check

if TYPE_CHECKING:
    from rich.console import Console


def run(options: Options, *, root: Path, console: Console | None = None) -> Summary:
    """Score options.input into options.output; every file appears whole or not at all.
    Registry models download in a child process while this one reads the input; SIGTERM
    unwinds the run, so its temporary files go; on a terminal `console`, a progress bar."""
    started = time.perf_counter()
    check(options)
    with Prefetch(prefetch_uris(options.tasks, options.model_uris), root=root) as fetched:
        # Arrow, pandas and LightGBM are imported once the child is on its way
        from ketapredict.score.stream import score_file

        with sigterm_unwinds(), _progress_bar(console) as progress:
            return score_file(options, fetched=fetched, progress=progress, started=started)


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
