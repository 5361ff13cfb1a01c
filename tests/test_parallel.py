"""Fits spread over processes: results in order, identical for any worker count, and workers
that end with the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from ketapredict.parallel import map_ordered
from tests.helpers import env


def _square_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def test_results_are_in_order_whatever_the_number_of_workers() -> None:
    args = [(i,) for i in range(7)]
    one = map_ordered(_square_pid, args, workers=1)
    two = map_ordered(_square_pid, args, workers=2)
    assert [r for r, _ in one] == [r for r, _ in two] == [i * i for i in range(7)]
    assert {pid for _, pid in one} == {os.getpid()}
    assert os.getpid() not in {pid for _, pid in two}


SPIN = """
import sys, time
from ketapredict.parallel import map_ordered

def spin(seconds):
    import os
    print(os.getpid(), flush=True)
    end = time.time() + seconds
    while time.time() < end:
        pass

map_ordered(spin, [(120,), (120,)], workers=2)
"""


def test_workers_end_when_their_parent_is_killed(tmp_path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True,
                              env=env(), cwd=tmp_path)  # fmt: skip
    workers = [int(parent.stdout.readline()) for _ in range(2)]
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 20
    alive = workers
    while alive and time.time() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in alive if _alive(pid)]
    assert not alive, "workers outlived the killed parent"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:  # a zombie is gone, only not yet reaped
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
