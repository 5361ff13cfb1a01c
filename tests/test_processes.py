"""A killed run's debris is recognised by its dead PID and removed by the next run; a stage
ends when the process that started it dies. Real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ketapredict.io import write_text
from ketapredict.processes import TEMP_TAG, pid_alive, remove_stale

SRC = str(Path(__file__).resolve().parents[1] / "src")


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def python(code: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen([sys.executable, "-c", code], env=env, text=True, **kwargs)  # type: ignore[call-overload]


def wait_for(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout  # a generous bound against a hang, not a speed test
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_only_debris_of_dead_processes_is_removed(tmp_path: Path) -> None:
    dead, alive = dead_pid(), os.getpid()
    names = [f".s.csv.{TEMP_TAG}{dead}.x1.tmp", f".s.csv.{TEMP_TAG}{alive}.x2.tmp",
             f".s.csv.other{dead}.tmp", f".t.csv.{TEMP_TAG}{dead}.x3.tmp"]  # fmt: skip
    for name in names:
        (tmp_path / name).write_text("")
    (tmp_path / f"models.{TEMP_TAG}{dead}.abc").mkdir()
    (tmp_path / f"models.{TEMP_TAG}{dead}.abc" / "MLmodel").write_text("x")
    assert remove_stale(tmp_path, ".s.csv.") == [tmp_path / names[0]]
    assert len(remove_stale(tmp_path, "models.")) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])


def test_a_temporary_file_left_by_sigkill_goes_with_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "out" / "s.csv"
    code = (
        "import sys, time\nfrom ketapredict.io import atomic_path\n"
        f"with atomic_path({str(target)!r}) as tmp:\n"
        "    tmp.write_text('half'); print(tmp, flush=True); time.sleep(600)\n"
    )
    child = python(code, stdout=subprocess.PIPE)
    assert child.stdout is not None
    left = Path(child.stdout.readline().strip())
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert left.exists() and f"{TEMP_TAG}{child.pid}." in left.name
    write_text("whole\n", target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["s.csv"]


def test_a_stage_ends_unwound_when_its_parent_is_killed(tmp_path: Path) -> None:
    marker = tmp_path / "unwound"
    stage = (
        "import time\nfrom ketapredict.processes import die_with_parent\n"
        "die_with_parent(0.05)\n"
        f"try:\n    print('ready', flush=True); time.sleep(600)\n"
        f"finally:\n    open({str(marker)!r}, 'w').write('finally ran')\n"
    )
    parent = python(
        "import subprocess, sys\n"
        f"child = subprocess.Popen([sys.executable, '-c', {stage!r}])\n"
        "print(child.pid, flush=True); child.wait()\n",
        stdout=subprocess.PIPE,
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    time.sleep(0.5)  # let the child start watching its parent
    parent.send_signal(signal.SIGKILL)  # e.g. `dvc repro` killed: its child is left alone
    parent.wait()
    wait_for(marker.exists, "the orphaned stage to end")
    assert marker.read_text() == "finally ran"
    wait_for(lambda: not _running(child_pid), "the orphaned stage's process to go")


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for a reaper."""
    try:
        return pid_alive(pid) and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_a_model_download_folder_left_by_a_killed_run_goes_with_the_next_run(
    tmp_path: Path, monkeypatch
) -> None:
    import tempfile

    from ketapredict.score.models import Prefetch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the temp folder, here
    left = tmp_path / f"models.{TEMP_TAG}{dead_pid()}.abc"
    (left / "0").mkdir(parents=True)
    with Prefetch([], root=tmp_path) as fetched:
        assert not left.exists()
        assert fetched.tmp.parent == tmp_path and f"{TEMP_TAG}{os.getpid()}." in fetched.tmp.name
    assert list(tmp_path.iterdir()) == []
