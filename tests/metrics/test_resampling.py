"""Bootstrap intervals and Harrell's optimism correction: deterministic, honest, weight-aware."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression

from ketapredict import metrics as m


def test_bootstrap_is_deterministic_for_a_seed_and_brackets_the_estimate(small):
    y, p = small
    first = m.bootstrap_metrics(y, p, rng=np.random.default_rng(5), n_resamples=200)
    again = m.bootstrap_metrics(y, p, rng=np.random.default_rng(5), n_resamples=200)
    assert first == again
    assert set(first) == set(m.BOOTSTRAP_METRICS)
    for name, (estimate, low, high) in first.items():
        assert low < estimate < high, name
    assert first["auroc"][0] == pytest.approx(skm.roc_auc_score(y, p))


def test_bootstrap_interval_is_the_central_percentile_range(small):
    y, p = small

    def resample_number(y, p, weights=None):
        return 0.0 if weights is None else np.arange(len(weights), dtype=float)

    estimate, low, high = m.bootstrap_ci(
        resample_number, y, p, rng=np.random.default_rng(0), n_resamples=1001, level=0.9
    )
    assert (estimate, low, high) == (0.0, pytest.approx(50.0), pytest.approx(950.0))


def test_stratified_resamples_keep_class_sizes_and_reach_everyone(small):
    y, _ = small
    counts = m.bootstrap_counts(y, np.random.default_rng(6), 50, stratified=True)
    np.testing.assert_array_equal(counts @ y, np.full(50, y.sum()))
    loose = m.bootstrap_counts(y, np.random.default_rng(6), 50, stratified=False)
    assert loose.sum(axis=1).tolist() == [y.size] * 50
    assert np.ptp(loose @ y) > 0
    for c in (counts, loose):
        assert (c.sum(axis=0) > 0).all()
        assert c.mean() == pytest.approx(1.0)


def test_stratifying_would_shrink_the_calibration_intercept_interval(small):
    y, p = small
    _, low, high = m.bootstrap_metrics(y, p, rng=np.random.default_rng(9), n_resamples=400)[
        "calibration_intercept"
    ]
    _, s_low, s_high = m.bootstrap_ci(
        m.calibration_intercept,
        y,
        p,
        rng=np.random.default_rng(9),
        n_resamples=400,
        stratified=True,
    )
    assert s_high - s_low < 0.6 * (high - low)


def test_bootstrap_intervals_cover_the_truth_at_the_nominal_rate():
    def risk(x: np.ndarray) -> np.ndarray:
        return expit(-0.5 + 1.2 * x)

    rng = np.random.default_rng(7)
    x_pop = rng.normal(size=1_000_000)
    p_pop = risk(x_pop)
    true_auroc = skm.roc_auc_score(rng.binomial(1, p_pop), p_pop)
    true_brier = float(np.mean(p_pop * (1 - p_pop)))
    covered = dict.fromkeys(("auroc", "brier", "intercept", "slope"), 0)
    n_sims = 200
    for _ in range(n_sims):
        p = risk(rng.normal(size=300))
        y = rng.binomial(1, p)
        for name, fn, truth in [
            ("auroc", m.auroc, true_auroc),
            ("brier", m.brier, true_brier),
            ("intercept", m.calibration_intercept, 0.0),
            ("slope", m.calibration_slope, 1.0),
        ]:
            _, low, high = m.bootstrap_ci(fn, y, p, rng=rng, n_resamples=300)
            covered[name] += low <= truth <= high
    for name, hits in covered.items():
        assert 0.88 <= hits / n_sims <= 0.99, (name, hits / n_sims)


def test_optimism_correction_moves_apparent_towards_external_performance():
    rng = np.random.default_rng(8)

    def cohort(n: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.normal(size=(n, 15))
        return X, rng.binomial(1, expit(X[:, 0] - 0.5 * X[:, 1]))

    def fit_predict(X_train, y_train, w_train, groups, X_eval):
        model = LogisticRegression(C=1e4, max_iter=1000)
        model.fit(X_train, y_train, sample_weight=w_train)
        return model.predict_proba(X_eval)[:, 1]

    X, y = cohort(150)
    X_ext, y_ext = cohort(50_000)
    p_ext = fit_predict(X, y, np.ones(len(y)), None, X_ext)
    out = m.optimism_corrected(fit_predict, X, y, rng=rng, n_resamples=40)
    assert out["calibration_slope"]["apparent"] == pytest.approx(1.0, abs=0.01)
    external = {
        "auroc": m.auroc(y_ext, p_ext),
        "calibration_slope": m.calibration_slope(y_ext, p_ext),
    }
    for name, res in out.items():
        assert res["optimism"] > 0
        assert res["corrected"] == pytest.approx(res["apparent"] - res["optimism"])
        assert abs(res["corrected"] - external[name]) < abs(res["apparent"] - external[name])


def test_optimism_correction_gives_rows_of_weight_zero_no_say():
    """Relapse rows censored without a label weigh 0 (IPCW): in the refits and the measures."""
    rng = np.random.default_rng(9)
    X = rng.normal(size=(400, 5))
    y = rng.binomial(1, expit(X[:, 0]))
    junk = rng.normal(size=(300, 5))
    y_junk = (junk[:, 0] < 0).astype(int)  # the opposite signal: would drag the AUROC down

    def fit_predict(X_train, y_train, w_train, groups, X_eval):
        model = LogisticRegression(C=1e4, max_iter=1000, tol=1e-10)
        model.fit(X_train, y_train, sample_weight=w_train)
        return model.predict_proba(X_eval)[:, 1]

    weights = np.r_[np.ones(400), np.zeros(300)]
    mixed = m.optimism_corrected(
        fit_predict, np.vstack([X, junk]), np.r_[y, y_junk], weights, rng=rng, n_resamples=5
    )
    clean = m.optimism_corrected(fit_predict, X, y, rng=rng, n_resamples=5)
    for name in ("auroc", "calibration_slope"):
        assert mixed[name]["apparent"] == pytest.approx(clean[name]["apparent"], abs=1e-4)
    assert mixed["auroc"]["apparent"] > 0.7


def test_resample_counts_are_stratified_then_ordinary_times_the_case_weights(small):
    y, _ = small
    w = np.where(np.arange(y.size) % 2, 2.0, 0.0)
    scaled = m.resample_counts(y, w, np.random.default_rng(6), 5)
    rng = np.random.default_rng(6)
    stratified, ordinary = (m.bootstrap_counts(y, rng, 5, s) for s in (True, False))
    np.testing.assert_array_equal(scaled[True], stratified * w)
    np.testing.assert_array_equal(scaled[False], ordinary * w)


def test_percentile_interval_and_bounds_ignore_nan_draws():
    draws = np.r_[np.arange(101.0), np.nan]
    assert m.percentile_interval(7, draws, 0.9) == (7.0, pytest.approx(5.0), pytest.approx(95.0))
    low, high = m.percentile_bounds(np.column_stack([draws, 2 * draws]), 0.9, axis=0)
    np.testing.assert_allclose(low, [5.0, 10.0])
    np.testing.assert_allclose(high, [95.0, 190.0])
