"""Paired bootstrap differences, within-design concordance and the p-values behind the flags."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from ketapredict import metrics, paired


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=800)
    p = expit(x - 0.5)
    y = rng.binomial(1, p).astype(float)
    noisy = expit(x - 0.5 + rng.normal(scale=1.5, size=x.size))
    return y, p, noisy, np.ones(x.size)


def test_interval_is_the_estimate_and_the_central_95_percent_of_the_draws() -> None:
    out = paired.interval(0.3, np.r_[np.arange(1001.0), np.nan])
    assert out == {"estimate": 0.3, "low": pytest.approx(25.0), "high": pytest.approx(975.0)}


def test_a_model_against_itself_differs_by_exactly_nothing(scored) -> None:
    y, p, _, w = scored
    counts = paired.resample_counts(y, w, np.random.default_rng(1), 50)
    summary, curve = paired.differences(y, p, p, w, counts, np.array([0.2, 0.5]))
    for name in ("auroc", "brier", "net_benefit_mean"):
        assert summary[name] == {"estimate": 0.0, "low": 0.0, "high": 0.0}
    assert list(curve.columns) == ["threshold", "estimate", "low", "high"]
    assert (curve[["estimate", "low", "high"]] == 0).all(axis=None)


def test_the_true_risk_beats_a_noisy_one_with_an_interval_around_the_difference(scored) -> None:
    y, p, noisy, w = scored
    counts = paired.resample_counts(y, w, np.random.default_rng(2), 200)
    summary, _ = paired.differences(y, p, noisy, w, counts, np.linspace(0.1, 0.6, 6))
    auc = summary["auroc"]
    assert auc["estimate"] == pytest.approx(metrics.auroc(y, p) - metrics.auroc(y, noisy))
    assert 0 < auc["low"] < auc["estimate"] < auc["high"]
    assert summary["brier"]["high"] < 0  # the true risk has the lower Brier score


def test_flat_spells_the_metrics_json_keys() -> None:
    flat = paired.flat({"auroc": {"estimate": 0.1, "low": 0.0, "high": 0.2}})
    assert flat == {"auroc": 0.1, "auroc_low": 0.0, "auroc_high": 0.2}


def test_within_design_auroc_ignores_differences_between_designs() -> None:
    # Design b's patients all rank above design a's, but within each design the ranking is
    # perfect in a and reversed in b, each with four (event, non-event) pairs: 1 and 0 average.
    y = np.array([0, 0, 1, 1, 0, 0, 1, 1, 1, 1], dtype=float)
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.8, 0.9, 0.6, 0.7, 0.5, 0.1])
    design = np.array(["a"] * 4 + ["b"] * 4 + ["c"] * 2)  # c: events only, left out
    w = np.ones(10)
    assert paired.within_design_auroc(y, p, w, design) == pytest.approx(0.5)
    counts = np.vstack([w, np.r_[np.ones(4), np.zeros(6)]])  # resample 2 has no b patient
    np.testing.assert_allclose(paired.within_design_auroc(y, p, w, design, counts), [0.5, 1.0])


def test_holm_adjustment() -> None:
    adjusted = paired.holm(np.array([0.01, 0.04, 0.03, 0.5]))
    np.testing.assert_allclose(adjusted, [0.04, 0.09, 0.09, 0.5])


def test_one_sided_p_value_from_the_bootstrap_standard_error() -> None:
    draws = np.random.default_rng(3).normal(scale=0.01, size=2000)
    assert paired.p_below(-0.05, draws, 0.0) < 1e-6
    assert paired.p_below(0.0, draws, 0.0) == pytest.approx(0.5)
    assert paired.p_below(0.02, draws, 0.0) > 0.95
    assert paired.p_below(0.1, np.zeros(5), 0.2) == 0.0  # no spread: the estimate decides
    assert paired.p_below(0.3, np.zeros(5), 0.2) == 1.0


def test_two_sided_p_value_for_lying_outside_the_margin() -> None:
    draws = np.random.default_rng(4).normal(scale=0.01, size=2000)
    assert paired.p_outside(0.1, draws, 0.05) < 1e-6  # clearly above the margin
    assert paired.p_outside(-0.1, draws, 0.05) < 1e-6  # clearly below it
    assert paired.p_outside(0.0, draws, 0.05) == 1.0  # well inside [-0.05, 0.05]
    assert paired.p_outside(0.05, draws, 0.05) == pytest.approx(1.0)  # on the edge: 2 x 0.5
