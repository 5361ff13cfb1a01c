"""Training's fit on a tiny cohort: the test split decides nothing, and the same params give
the same model whatever the number of worker processes."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.helpers import TINY_PARAMS, cli

pytestmark = pytest.mark.slow


def _train(project, task: str):
    (project / "params.yaml").write_text(yaml.safe_dump(TINY_PARAMS, sort_keys=False))
    result = cli(["train", task], project)
    assert result.returncode == 0, result.stderr
    return json.loads((project / "data" / "train" / task / "registry.json").read_text())


def test_the_test_split_decides_nothing(project) -> None:
    """Scramble every test row (labels, weights and characteristics): the model, the
    cross-validated scores, the gate and the champion decision are unchanged to the last
    bit, so no test row was read before the final scoring in evaluate."""
    first = _train(project, "responder")
    model = (project / "data" / "train" / "responder" / "lightgbm" / "booster.txt").read_text()
    report = json.loads((project / "reports" / "train" / "responder.json").read_text())
    path = project / "data" / "features" / "responder.parquet"
    table = pd.read_parquet(path)
    test = table["split"] == "test"
    rng = np.random.default_rng(0)
    for column in ("y", "age", "bmi", "baseline_madrs", "p_true"):
        table.loc[test, column] = rng.permutation(table.loc[test, column].to_numpy())
    table.loc[test, "weight"] = 3.0
    table.to_parquet(path)
    (project / "mlflow.db").unlink()  # the same decision must be taken again from scratch
    shutil.rmtree(project / "models")
    second = _train(project, "responder")
    again = (project / "data" / "train" / "responder" / "lightgbm" / "booster.txt").read_text()
    assert again == model
    assert json.loads((project / "reports" / "train" / "responder.json").read_text()) == report
    for key in ("crowned", "reason", "comparison", "decided_on"):
        assert second[key] == first[key]
    assert "the test split was not read" in second["decided_on"]


def test_same_seed_gives_the_same_model(project) -> None:
    from ketapredict.config import load_params
    from ketapredict.layout import Layout
    from ketapredict.stages import train as stage

    (project / "params.yaml").write_text(yaml.safe_dump(TINY_PARAMS, sort_keys=False))
    params = load_params(project / "params.yaml")
    a = stage.fit(Layout(project), "responder", params.train)
    b = stage.fit(Layout(project), "responder", params.train)
    assert a.model.booster.model_to_string() == b.model.booster.model_to_string()
    X = a.train.X
    np.testing.assert_array_equal(a.model.predict_matrix(X), b.model.predict_matrix(X))
    np.testing.assert_array_equal(a.baseline.predict_proba(X), b.baseline.predict_proba(X))
    np.testing.assert_array_equal(a.tuning.oof_proba, b.tuning.oof_proba)


def test_results_do_not_depend_on_the_number_of_workers(project, monkeypatch) -> None:
    from ketapredict.config import load_params
    from ketapredict.layout import Layout
    from ketapredict.stages import train as stage

    (project / "params.yaml").write_text(yaml.safe_dump(TINY_PARAMS, sort_keys=False))
    params = load_params(project / "params.yaml")
    fits = []
    for workers in (1, 2):
        monkeypatch.setattr(stage, "workers_for", lambda rows, tasks, w=workers: w)
        fits.append(stage.fit(Layout(project), "relapse", params.train))
    one, two = fits
    assert one.model.booster.model_to_string() == two.model.booster.model_to_string()
    assert one.cv == two.cv
    pd.testing.assert_frame_equal(one.tuning.candidates, two.tuning.candidates)
