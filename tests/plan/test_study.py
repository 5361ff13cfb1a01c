"""The planner on a tiny grid on a 2-worker LocalCluster (loopback only): the same results
with 1 and 2 workers, a killed run resumed computing only what is missing, a failing cell
reported while the others finish, bad grids refused with one line."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ketapredict.config import load_params
from ketapredict.errors import ConfigError
from ketapredict.layout import Layout
from ketapredict.plan import engine, study
from ketapredict.plan.cells import Cell, make_reference
from tests.helpers import TINY_PARAMS, cli, env, make_project

pytestmark = pytest.mark.slow


def _project(tmp: Path, **plan) -> Path:
    params = copy.deepcopy(TINY_PARAMS)
    params["plan"].update(plan)
    return make_project(tmp, params)


def _run(root: Path, workers: int) -> pd.DataFrame:
    from ketapredict.stages import plan as stage

    paths = Layout(root)
    stage.run(paths, load_params(paths.params), workers=workers)
    folder = study.make_study(paths, load_params(paths.params)).folder(paths)
    return _results(folder)


def _results(folder: Path) -> pd.DataFrame:
    rows = engine.stored_cells(folder).drop(columns="seconds")
    return rows.sort_values(["learner", "n", "replicate"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    root = _project(tmp_path_factory.mktemp("two"))
    return root, _run(root, workers=2)


def test_one_or_two_workers_give_the_same_results(two_workers, tmp_path) -> None:
    root, two = two_workers
    assert len(two) == 2 * 2 * 4  # sizes x replicates x learners (3 + a benefit learner)
    benefit = two[two["learner"] == "x_learner"]
    assert benefit["pehe"].notna().all() and benefit["auroc"].isna().all()
    one = _run(_project(tmp_path), workers=1)
    pd.testing.assert_frame_equal(one, two)
    summary = (root / "reports" / "plan" / "summary.json").read_text()
    assert '"riley"' in summary and '"needed"' in summary
    assert (root / "reports" / "plan" / "ademp.md").read_text().startswith("# How many patients?")


def test_a_killed_run_resumes_computing_only_what_is_missing(two_workers, tmp_path) -> None:
    _, expected = two_workers
    root = _project(tmp_path)
    paths = Layout(root)
    folder = study.make_study(paths, load_params(paths.params)).folder(paths)
    process = subprocess.Popen(
        [sys.executable, "-m", "ketapredict", "plan", "--workers", "2"], cwd=root, env=env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while len(list(folder.glob("*.parquet"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the run, its scheduler and its workers
    process.wait()
    before = len(list(folder.glob("*.parquet")))
    assert 3 <= before < len(expected), "the run was to be killed half-way"
    from ketapredict.stages import plan as stage

    report = stage.run(paths, load_params(paths.params), workers=2)
    assert report["computed_this_run"] == len(expected) - before
    pd.testing.assert_frame_equal(_results(folder), expected)


def test_a_failing_cell_is_reported_and_the_others_finish(two_workers, tmp_path) -> None:
    root, _ = two_workers
    paths = Layout(root)
    plan = study.make_study(paths, load_params(paths.params))
    bad = Cell("pooled", "literature", "svm", 80, 0)
    cells = [*plan.cells[:3], bad]
    with engine.client(workers=2) as dask:
        specs = dask.scatter(plan.specs["literature"], broadcast=True)
        ref = dask.submit(make_reference, specs, "pooled", 2000, plan.mix, 1, plan.settings)
        shared = {("pooled", "literature"): (specs, ref)}
        outcome = engine.run_cells(dask, cells, study._work(plan), shared, tmp_path / "cells")
    assert outcome.computed == 3 and list(outcome.failed) == [bad.key]
    assert "unknown learner 'svm'" in outcome.failed[bad.key]
    assert engine.failures(tmp_path / "cells") == outcome.failed
    assert len(list((tmp_path / "cells").glob("*.parquet"))) == 3


@pytest.mark.parametrize(
    ("plan", "message"),
    [({"designs": ["nowhere"]}, "plan.designs: unknown design 'nowhere'"),
     ({"scenarios": ["dream"]}, "plan.scenarios: no scenario 'dream'"),
     ({"designs": ["realworld"]}, "'realworld' has no concurrent comparator"),
     ({"sizes": [0]}, "plan.sizes"), ({"sizes": []}, "plan.sizes")],
)  # fmt: skip
def test_a_bad_grid_is_refused_with_one_line(tmp_path, plan, message) -> None:
    root = _project(tmp_path, **plan)
    result = cli(["plan"], root)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert not (root / "data" / "plan").exists() and not (root / "reports" / "plan").exists()


def test_the_full_grid_holds_its_promise() -> None:
    assert study.FULL["replicates"] >= 0.25 / 0.02**2  # MC SE of a proportion <= 0.02
    sizes = study.FULL["sizes"]
    assert sizes[0] == 100 and sizes[-1] == 6400 and sizes == sorted(sizes)


def test_unknown_names_are_config_errors(tmp_path) -> None:
    root = _project(tmp_path, designs=["pooled", "berman2000"])
    paths = Layout(root)
    plan = study.make_study(paths, load_params(paths.params))
    assert {c.design for c in plan.cells} == {"pooled", "berman2000"}
    params = load_params(paths.params)
    bad = params.model_copy(update={"plan": params.plan.model_copy(update={"designs": ["x"]})})
    with pytest.raises(ConfigError, match="unknown design 'x'"):
        study.make_study(paths, bad)


def test_an_unreachable_scheduler_is_one_line(tmp_path) -> None:
    root = _project(tmp_path)
    result = cli(["plan", "--scheduler", "tcp://127.0.0.1:9"], root)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in errors[0]
    assert "Traceback" not in result.stderr
