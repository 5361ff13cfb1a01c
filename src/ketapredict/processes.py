"""What a killed run leaves behind, and how a stage follows its parent: PIDs in temporary
names, stale ones removed, a stage that exits when the process that started it dies."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# Temporary files and folders are named <prefix>ketapredict-<pid>.<random>: a run killed
# before it could remove them (SIGKILL, power loss) is recognised by its dead PID, and the
# next run that writes there removes them.
TEMP_TAG = "ketapredict-"


def temp_prefix(prefix: str) -> str:
    """`prefix` + the tag + this process's id + '.', for tempfile's prefix argument."""
    return f"{prefix}{TEMP_TAG}{os.getpid()}."


def remove_stale(folder: Path, prefix: str) -> list[Path]:
    """Remove the files and folders in `folder` named `prefix`ketapredict-<pid>.* whose
    process is gone; return them."""
    tagged = f"{prefix}{TEMP_TAG}"
    removed: list[Path] = []
    try:
        candidates = list(Path(folder).glob(f"{glob.escape(tagged)}*"))
    except OSError:
        return removed
    for path in candidates:
        pid = path.name[len(tagged) :].split(".", 1)[0]
        if not pid.isdigit() or pid_alive(int(pid)):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _exit_on_sigterm(*_: object) -> None:
    sys.exit(143)  # SystemExit unwinds like Ctrl-C: finally blocks run, temporary files go


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """SIGTERM raises SystemExit(143) in the block, as Ctrl-C raises KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set a handler; a caller's thread keeps its own
        return
    before = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if before is None else before)


def die_with_parent(poll_seconds: float = 1.0) -> None:
    """Exit (SIGTERM, unwound: open MLflow runs are closed as FAILED, temporary files go) when
    the process that started this one dies, e.g. `dvc repro` killed: a stage must not go on
    writing outputs nobody will record. A thread watches the parent's id: Linux's
    PR_SET_PDEATHSIG fires when the parent's *thread* exits, which would kill a stage started
    from a worker thread that ends."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if os.getppid() > 1:  # started by init (a daemon): no parent to follow
        watch_parent(lambda: os.kill(os.getpid(), signal.SIGTERM), poll_seconds=poll_seconds)


def watch_parent(on_orphaned: Callable[[], object], *, poll_seconds: float) -> None:
    """Call `on_orphaned` (from a daemon thread) once the process that started this one is
    gone: its id as our parent changes when it dies."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        on_orphaned()

    threading.Thread(target=watch, name="ketapredict-parent", daemon=True).start()
