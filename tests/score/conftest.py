"""Scoring fixtures: champions of every task, trained once, in a temporary SQLite MLflow."""

from __future__ import annotations

import copy
import fcntl
import shutil
from pathlib import Path

import pytest

from tests.helpers import TINY_PARAMS, cli, make_project


def _train(folder: Path) -> Path:
    params = copy.deepcopy(TINY_PARAMS)
    # a cohort whose benefit learners pass their gate, so that there is a benefit champion:
    # the tiny one's few randomized patients, under the literature's weak heterogeneity, give
    # one only by luck of the draw
    params["generate"].update(scenario="strong_heterogeneity")
    params["generate"]["cohorts"].update(murrough2013=400, sustain1=600)
    params["train"].update(max_trees=60)
    params["train"]["search"].update(candidates=1, num_leaves=[4])
    root = make_project(folder, params)
    commands = (["generate"], ["features"], *(["train", t] for t in ("responder", "relapse")))
    for command in (*commands, ["train", "benefit"]):
        result = cli(command, root)
        assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """Every task trained once on a tiny cohort and registered (as champions if they pass).
    Under xdist the first worker to ask trains them in the folder all workers share; the
    others wait."""
    if worker_id == "master":
        return _train(tmp_path_factory.mktemp("score"))
    shared = tmp_path_factory.getbasetemp().parent / "score-champions"
    with (shared.parent / "score-champions.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (shared / "done").exists():
            shutil.rmtree(shared, ignore_errors=True)  # a build that failed half-way
            shared.mkdir()
            _train(shared)
            (shared / "done").touch()
    return shared / "project"
