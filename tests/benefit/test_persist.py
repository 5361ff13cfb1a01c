"""A benefit learner's files: every learner round-trips to the bit, the same fit is the same
bytes, and a file is loaded trusting only the types its kind of learner holds."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ketapredict.benefit.learners import LEARNERS, FittedLearner, fit_learner
from ketapredict.benefit.persist import (
    ABOUT_FILE,
    LEARNER_FILE,
    LEARNER_TYPES,
    load_learner,
    save_learner,
)
from ketapredict.errors import ModelError
from tests.test_baseline import _exec_node


@pytest.mark.parametrize("name", LEARNERS)
def test_every_learner_round_trips_to_the_bit(trial, fitted, tmp_path: Path, name: str) -> None:
    import skops.io

    save_learner(fitted[name], tmp_path)
    # the allowlist is exactly what the file needs: nothing missing, nothing spare
    assert skops.io.get_untrusted_types(file=tmp_path / LEARNER_FILE) == sorted(LEARNER_TYPES[name])
    loaded = load_learner(tmp_path)
    assert (loaded.name, loaded.names) == (name, fitted[name].names)
    X = trial[0].X
    np.testing.assert_array_equal(loaded.effect(X), fitted[name].effect(X))


@pytest.mark.parametrize("name", ["risk_strata", "dr_learner", "causal_forest"])
def test_the_same_fit_is_the_same_bytes(trial, fitted, tmp_path: Path, name: str) -> None:
    save_learner(fitted[name], tmp_path / "first")
    save_learner(fit_learner(name, trial[0], seed=7), tmp_path / "second")
    for file in (LEARNER_FILE, ABOUT_FILE):
        assert (tmp_path / "first" / file).read_bytes() == (tmp_path / "second" / file).read_bytes()


def test_a_file_holding_another_learners_types_is_refused(fitted, tmp_path: Path) -> None:
    save_learner(fitted["x_learner"], tmp_path)
    about = json.loads((tmp_path / ABOUT_FILE).read_text())
    (tmp_path / ABOUT_FILE).write_text(json.dumps({**about, "learner": "t_learner"}))
    with pytest.raises(ModelError, match=r"XLearner.*refusing to load it") as caught:
        load_learner(tmp_path)
    assert "\n" not in str(caught.value)


def test_a_file_holding_a_foreign_object_is_refused(fitted, tmp_path: Path) -> None:
    import skops.io
    from sklearn.ensemble import RandomForestRegressor

    save_learner(fitted["causal_forest"], tmp_path)
    forest = RandomForestRegressor(n_estimators=2, random_state=0).fit([[0], [1]], [0, 1])
    (tmp_path / LEARNER_FILE).write_bytes(skops.io.dumps({"model": forest}))
    with pytest.raises(ModelError, match=r"sklearn\.tree\._tree\.Tree.*refusing to load it"):
        load_learner(tmp_path)


def test_a_file_that_calls_exec_is_refused_before_anything_runs(fitted, tmp_path: Path) -> None:
    save_learner(fitted["t_learner"], tmp_path)
    marker = tmp_path / "pwned"
    with zipfile.ZipFile(tmp_path / LEARNER_FILE, "w") as archive:
        archive.writestr("schema.json", json.dumps(_exec_node(f"open({str(marker)!r}, 'w')")))
    with pytest.raises(ModelError, match=r"builtins\.exec.*refusing to load it"):
        load_learner(tmp_path)
    assert not marker.exists()


def test_trusted_types_holding_the_wrong_parts_are_refused(fitted, tmp_path: Path) -> None:
    import skops.io

    save_learner(fitted["t_learner"], tmp_path)
    one_arm = fitted["t_learner"].parts["model"].models[1]  # of allowed types, not a T-learner
    (tmp_path / LEARNER_FILE).write_bytes(skops.io.dumps({"model": one_arm}))
    with pytest.raises(ModelError, match="its 'model' is a LGBMRegressor"):
        load_learner(tmp_path)


def test_a_crafted_forest_is_refused(fitted, tmp_path: Path) -> None:
    forest = fitted["causal_forest"]
    parts = {**forest.parts, "left": forest.parts["left"].copy()}
    inner = np.flatnonzero(parts["left"] >= 0)[-1]
    parts["left"][inner] = inner  # a node that is its own child: a walk that never ends
    save_learner(FittedLearner(forest.name, forest.names, parts), tmp_path)
    with pytest.raises(ModelError, match="points outside the forest or backwards"):
        load_learner(tmp_path)


def test_unreadable_files_are_model_errors(fitted, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="description"):
        load_learner(tmp_path)  # nothing saved
    save_learner(fitted["prognostic"], tmp_path)
    (tmp_path / LEARNER_FILE).write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="not a readable prognostic learner"):
        load_learner(tmp_path)
    (tmp_path / ABOUT_FILE).write_text(json.dumps({"learner": "oracle", "names": []}))
    with pytest.raises(ModelError, match="no known benefit learner"):
        load_learner(tmp_path)
