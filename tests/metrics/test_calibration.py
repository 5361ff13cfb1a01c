"""Calibration measures against cases with known answers, scikit-learn and direct fits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression

from ketapredict import metrics as m
from ketapredict.errors import ConfigError, DataError


def test_calibrated_predictions_have_slope_one_intercept_zero_and_no_ici(big):
    y, p = big
    intercept, slope = m.calibration_intercept_slope(y, p)
    assert abs(slope - 1) < 0.03
    assert abs(intercept) < 0.03
    assert m.smoothed_calibration(y, p).ici < 0.01


def test_overconfident_predictions_have_slope_one_half(big):
    y, p = big
    assert m.calibration_slope(y, expit(2 * logit(p))) == pytest.approx(0.5, abs=0.03)


def test_overestimated_risks_have_intercept_minus_one_half(big):
    y, p = big
    assert m.calibration_intercept(y, expit(logit(p) + 0.5)) == pytest.approx(-0.5, abs=0.03)


def test_slope_matches_unpenalised_logistic_regression(small):
    y, p = small
    q = expit(0.3 + 0.7 * logit(p))
    ref = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12).fit(
        logit(q)[:, None], y
    )
    assert m.calibration_slope(y, q) == pytest.approx(ref.coef_[0, 0], abs=1e-6)


def test_intercept_maximises_offset_likelihood(small):
    y, p = small
    x = logit(expit(logit(p) - 0.3))

    def nll(a: float) -> float:
        return -np.sum(y * (a + x) - np.logaddexp(0, a + x))

    ref = minimize_scalar(nll, bounds=(-3, 3), method="bounded", options={"xatol": 1e-9}).x
    assert m.calibration_intercept(y, expit(x)) == pytest.approx(ref, abs=1e-6)


@pytest.mark.parametrize(
    "distort",
    [
        lambda lp: 1.5 * lp + 0.4,  # linear in the logit: weak miscalibration only
        lambda lp: lp + 0.8 * np.sin(1.5 * lp),  # wavy: needs the spline, a line misses it
    ],
)
def test_smoothed_curve_recovers_the_true_calibration_error(big, distort):
    y, p = big
    skewed = expit(distort(logit(p)))
    fit = m.smoothed_calibration(y, skewed)
    truth = m.calibration_error_vs_truth(skewed, p)
    assert fit.ici == pytest.approx(truth["mean_abs"], abs=0.007)
    assert fit.e90 == pytest.approx(truth["e90"], abs=0.01)
    assert fit.ici > 0.05
    assert fit.e50 <= fit.e90 <= fit.emax


def test_calibration_converges_for_grossly_overconfident_predictions():
    # Undamped Newton from zero overshoots to about -2000 here and never comes back.
    y = np.r_[np.ones(20), np.zeros(80)]
    p = np.full(100, expit(8.0))
    assert m.calibration_intercept(y, p) == pytest.approx(logit(0.2) - 8, abs=1e-6)
    estimate, low, high = m.bootstrap_ci(
        m.calibration_intercept, y, p, rng=np.random.default_rng(0), n_resamples=200
    )
    assert np.isfinite([low, high]).all()
    assert low < estimate < high


def test_smoothed_curve_band_covers_the_diagonal_when_calibrated(big):
    y, p = big
    grid = np.linspace(0.05, 0.9, 50)
    fit = m.smoothed_calibration(y[:20_000], p[:20_000], grid=grid)
    assert np.array_equal(fit.grid, grid)
    assert (fit.lower <= fit.observed).all() and (fit.observed <= fit.upper).all()
    assert np.mean((fit.lower <= grid) & (grid <= fit.upper)) > 0.85
    assert np.abs(fit.observed - grid).max() < 0.05


def test_smoothed_calibration_rejects_unknown_knot_count(small):
    with pytest.raises(ConfigError):
        m.smoothed_calibration(*small, n_knots=2)


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
@pytest.mark.parametrize("decimals", [None, 1])
def test_binned_calibration_matches_sklearn_and_counts_every_patient(small, strategy, decimals):
    y, p = small
    p = p if decimals is None else np.round(p, decimals)  # values on the bin edges
    table = m.binned_calibration(y, p, n_bins=10, strategy=strategy)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy=strategy)
    assert table["count"].sum() == y.size
    np.testing.assert_allclose(table["observed"], observed)
    np.testing.assert_allclose(table["mean_predicted"], predicted)


def test_calibration_error_vs_truth_by_hand():
    assert m.calibration_error_vs_truth([0.2, 0.7], [0.2, 0.7]) == dict.fromkeys(
        ("mean_abs", "rms", "e50", "e90", "emax"), 0.0
    )
    err = m.calibration_error_vs_truth([0.1, 0.5], [0.2, 0.2])
    assert err["mean_abs"] == pytest.approx(0.2)
    assert err["rms"] == pytest.approx(np.sqrt((0.01 + 0.09) / 2))
    assert err["emax"] == pytest.approx(0.3)


@pytest.mark.parametrize("fn", [m.calibration_intercept, m.calibration_slope])
def test_batch_path_equals_evaluating_each_resample(small, counts, fn):
    y, p = small
    expected = [fn(np.repeat(y, w.astype(int)), np.repeat(p, w.astype(int))) for w in counts]
    np.testing.assert_allclose(fn(y, p, counts), expected, rtol=1e-8)


def test_binned_calibration_rejects_unknown_strategy(small):
    with pytest.raises(ConfigError):
        m.binned_calibration(*small, strategy="kmeans")


def test_calibration_error_vs_truth_rejects_mismatched_shapes():
    with pytest.raises(DataError):
        m.calibration_error_vs_truth([0.1, 0.2], [0.1])
