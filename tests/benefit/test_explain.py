"""Each learner's SHAP values: they add up to its estimate, and find the planted modifier."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketapredict.benefit import explain
from ketapredict.benefit.learners import LEARNERS


@pytest.mark.parametrize("name", ["x_learner", "t_learner", "causal_forest"])
def test_shap_values_add_up_to_the_estimate_and_find_the_modifier(trial, fitted, name) -> None:
    data = trial[0]
    X, background = data.X[:80], data.X[200:230]
    sv = explain.shap_values(fitted[name], X, background, seed=3)
    assert sv.values.shape == X.shape and sv.features == data.names
    np.testing.assert_allclose(sv.values.sum(axis=1) + sv.base, fitted[name].effect(X), atol=1e-6)
    size = np.abs(sv.values).mean(axis=0)
    assert size.argmax() == 0, size  # the benefit is 0.3 where x0 > 0, none elsewhere


def test_the_same_seed_gives_the_same_values(trial, fitted) -> None:
    X, background = trial[0].X[:30], trial[0].X[200:220]
    a, b = (explain.shap_values(fitted["t_learner"], X, background, seed=5) for _ in range(2))
    np.testing.assert_array_equal(a.values, b.values)


def test_samples_are_seeded_and_disjoint() -> None:
    X = np.arange(1000, dtype=float)[:, None]
    patients, background = explain.sample(X, 7)
    assert len(patients) == explain.PATIENTS and len(background) == explain.BACKGROUND
    assert not set(patients[:, 0]) & set(background[:, 0])
    np.testing.assert_array_equal(patients, explain.sample(X, 7)[0])


def test_top_share_counts_the_true_modifiers_among_the_largest() -> None:
    truth = pd.Series({"a": "predictive", "b": "both", "c": "prognostic", "d": "neither"})
    assert explain.top_share(pd.Series({"a": 3.0, "b": 2.0, "c": 1.0, "d": 0.0}), truth) == 1.0
    assert explain.top_share(pd.Series({"a": 3.0, "c": 2.0, "b": 1.0}), truth) == 0.5
    assert explain.top_share(pd.Series({"c": 3.0, "d": 2.0}), truth) == 0.0
    assert explain.top_share(pd.Series({"a": 1.0}), truth, "prognostic") == 0.5
    assert np.isnan(explain.top_share(pd.Series({"a": 1.0}), truth.replace("predictive", "x")
                                      .replace("both", "x")))  # fmt: skip


def test_every_learner_is_explained() -> None:
    assert set(LEARNERS) == {"prognostic", "risk_strata", "t_learner", "x_learner", "dr_learner",
                             "causal_forest"}  # fmt: skip
