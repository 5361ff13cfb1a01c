"""Prognostic-or-predictive labels and their score against the truth's roles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketapredict.benefit import roles as r
from ketapredict.benefit.data import INPUTS


def test_true_roles_are_the_terms_acting_at_24h(specs) -> None:
    truth = r.true_roles(specs.model, [f.name for f in INPUTS])
    assert truth["family_history_aud"] == "predictive"
    assert truth["anxious_depression"] == "prognostic"
    assert truth["n_failed_trials"] == "both"
    assert truth["height_cm"] == "neither"
    # acts by day 7 only: no role at 24 h, one at day 7
    assert truth["prior_suicide_attempt"] == "neither"
    assert r.true_roles(specs.model, ["prior_suicide_attempt"], hours=168.0).iloc[0] == "predictive"


def test_labels_from_importances_and_null_thresholds() -> None:
    predictive = pd.Series({"a": 0.5, "b": 0.01, "c": 0.4, "d": 0.0})
    prognostic = pd.Series({"a": 0.5, "b": 0.6, "c": 0.01, "d": 0.0})
    labels = r.label(predictive, prognostic, p_cut=0.1, q_cut=0.1)
    assert labels.to_dict() == {"a": "both", "b": "prognostic", "c": "predictive", "d": "neither"}


def test_the_score_counts_discoveries_against_the_truth() -> None:
    labels = pd.Series({"a": "predictive", "b": "predictive", "c": "neither", "d": "both"})
    truth = pd.Series({"a": "predictive", "b": "neither", "c": "predictive", "d": "prognostic"})
    s = r.score(labels, truth)
    assert s["predictive_labelled"] == 3 and s["predictive_true"] == 2
    assert s["predictive_sensitivity"] == pytest.approx(0.5)  # a found, c missed
    assert s["predictive_false_discovery"] == pytest.approx(2 / 3)  # b and d
    assert s["predictive_false_positive_rate"] == pytest.approx(1.0)  # b, d of b, d
    assert s["prognostic_sensitivity"] == pytest.approx(1.0)


def test_permuting_within_designs_keeps_each_designs_values() -> None:
    groups = np.repeat(["x", "y"], 50)
    values = np.r_[np.ones(20), np.zeros(30), np.ones(40), np.zeros(10)]
    out = r.permuted_within(groups, values, np.random.default_rng(0))
    assert out[:50].sum() == 20 and out[50:].sum() == 40
    assert not np.array_equal(out, values)


def test_importance_sums_one_hot_columns_into_their_characteristic() -> None:
    inputs = [f for f in INPUTS if f.name in ("age", "diagnosis")]
    columns = ["age", "diagnosis_bipolar", "diagnosis_ptsd"]
    contributions = np.array([[1.0, 0.5, -0.5, 9.0], [-2.0, 0.25, 0.25, 9.0]])
    imp = r.importance_by_input(contributions, columns, inputs)
    assert imp["age"] == pytest.approx(1.5) and imp["diagnosis"] == pytest.approx(0.25)
