"""The champion policy, without MLflow: gate, honest champion predictions, comparison."""

from __future__ import annotations

import numpy as np
import pytest

from ketapredict import champion
from ketapredict.config import load_params
from tests.conftest import ROOT


@pytest.fixture
def params():
    return load_params(ROOT / "params.yaml").train


GOOD = {"auroc": 0.7, "brier": 0.2, "calibration_slope": 1.0}


def test_gate_reads_cross_validated_scores(params) -> None:
    assert champion.gate_reasons(GOOD, params) == []
    reasons = champion.gate_reasons({**GOOD, "auroc": 0.55, "calibration_slope": 1.5}, params)
    assert len(reasons) == 2 and all(r.startswith("cross-validated") for r in reasons)


def test_honest_champion_predictions_use_its_out_of_fold_on_rows_it_trained_on() -> None:
    seen = np.array([10, 20, 30], dtype=np.uint64)
    seen_oof = np.array([0.1, 0.2, 0.3])
    rows = np.array([20, 40, 10], dtype=np.uint64)
    predicted = np.array([0.9, 0.5, 0.9])
    out = champion.honest_champion_predictions(rows, predicted, seen, seen_oof)
    np.testing.assert_array_equal(out, [0.2, 0.5, 0.1])
    # a champion that kept no out-of-fold predictions has none for rows it trained on
    out = champion.honest_champion_predictions(rows, predicted, seen, None)
    assert np.isnan(out[[0, 2]]).all() and out[1] == 0.5


def test_a_worse_candidate_is_not_crowned_and_a_tie_within_tolerance_is(params) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000).astype(float)
    good = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.2, y.size), 0.01, 0.99)
    noise = rng.random(y.size)
    w = np.ones(y.size)
    worse = champion.compare(y, w, noise, good)
    decision = champion.decide(GOOD, params, current="3", comparison=worse)
    assert not decision.crowned and "worse than champion v3" in decision.reason
    tie = champion.compare(y, w, good, good)
    assert champion.decide(GOOD, params, current="3", comparison=tie).crowned


def test_too_few_honest_rows_leave_the_gate_alone_to_decide(params) -> None:
    y = np.r_[np.zeros(60), np.ones(60)]
    champion_p = np.full(y.size, np.nan)
    champion_p[:50] = 0.5
    comparison = champion.compare(y, np.ones(y.size), np.full(y.size, 0.5), champion_p)
    assert comparison.auroc is None and "gate alone decides" in comparison.note
    decision = champion.decide(GOOD, params, current="1", comparison=comparison)
    assert decision.crowned and "test split was not read" in decision.decided_on
