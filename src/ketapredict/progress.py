"""How far a long step is: a rich progress bar on a terminal, a log line per tenth in a log
file (DVC's output, CI), so a user sees what a stage is doing and how far along it is."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("ketapredict.progress")


@contextmanager
def steps(what: str, total: int) -> Iterator[Callable[[], None]]:
    """A counter for `total` steps of `what`: call the yielded function once per step done."""
    if sys.stderr.isatty():
        with _bar(what, total) as advance:
            yield advance
        return
    done, shown = 0, 0

    def advance() -> None:
        nonlocal done, shown
        done += 1
        tenth = 10 * done // total
        if tenth > shown or done == total:
            shown = tenth
            log.info("%s: %d/%d", what, done, total)

    log.info("%s: 0/%d", what, total)
    yield advance


@contextmanager
def _bar(what: str, total: int) -> Iterator[Callable[[], None]]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    # the console the log handler writes to, so log lines print above the bar, not through it
    consoles = [getattr(h, "console", None) for h in logging.getLogger().handlers]
    console = next((c for c in consoles if isinstance(c, Console)), Console(stderr=True))
    columns = (f"[bold]{what}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(what, total=total)
        yield lambda: bar.advance(task)
