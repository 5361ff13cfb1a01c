"""Evaluation measures against cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression

from ketapredict import metrics as m
from ketapredict.errors import ConfigError, DataError


def draw(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """True risks from a logistic model and outcomes drawn from them: calibrated by construction."""
    rng = np.random.default_rng(seed)
    p = expit(-0.4 + 1.2 * rng.normal(size=n))
    return rng.binomial(1, p), p


@pytest.fixture(scope="module")
def big() -> tuple[np.ndarray, np.ndarray]:
    return draw(200_000, seed=1)


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, np.ndarray]:
    return draw(600, seed=2)


@pytest.fixture(scope="module")
def counts(small: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    y, _ = small
    return m.bootstrap_counts(y, np.random.default_rng(3), 4, stratified=True)


# --- calibration -----------------------------------------------------------------------------


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


# --- discrimination and accuracy: the batch paths equal scikit-learn --------------------------


def test_discrimination_is_sklearn(small):
    y, p = small
    assert m.discrimination(y, p) == {
        "auroc": pytest.approx(skm.roc_auc_score(y, p)),
        "auprc": pytest.approx(skm.average_precision_score(y, p)),
    }


@pytest.mark.parametrize(
    ("fn", "ref"),
    [
        (m.auroc, skm.roc_auc_score),
        (m.auprc, skm.average_precision_score),
        (m.brier, skm.brier_score_loss),
        (m.log_loss, skm.log_loss),
    ],
)
def test_batch_path_equals_sklearn_with_sample_weights(small, counts, fn, ref):
    y, p = small
    p = np.round(p, 2)  # ties, which rank-based measures must split evenly
    expected = [ref(y, p, sample_weight=w) for w in counts]
    np.testing.assert_allclose(fn(y, p, counts), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "fn", [m.scaled_brier, m.calibration_intercept, m.calibration_slope, m.auroc, m.auprc]
)
def test_batch_path_equals_evaluating_each_resample(small, counts, fn):
    y, p = small
    expected = [fn(np.repeat(y, w.astype(int)), np.repeat(p, w.astype(int))) for w in counts]
    np.testing.assert_allclose(fn(y, p, counts), expected, rtol=1e-8)


def test_scaled_brier_is_zero_for_the_prevalence_model_and_one_for_perfect(small):
    y, _ = small
    assert m.scaled_brier(y, np.full(y.size, y.mean())) == pytest.approx(0.0, abs=1e-12)
    assert m.scaled_brier(y, y.astype(float)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("y", "p"), [([0, 2, 1], [0.1, 0.2, 0.3]), ([0, 1, 1], [0.1, 1.2, 0.3]), ([0, 1], [0.5])]
)
def test_bad_inputs_raise_data_error(y, p):
    with pytest.raises(DataError):
        m.brier(y, p)


# --- net benefit -------------------------------------------------------------------------------

Y6 = np.array([1, 1, 0, 1, 0, 0])
P6 = np.array([0.9, 0.6, 0.5, 0.3, 0.2, 0.1])


def test_net_benefit_by_hand():
    # t = 0.25 treats the top four: 3 cases (TP), 1 non-case (FP); t = 0.3 still treats p = 0.3.
    # t = 0.55 treats the top two, both cases.
    nb = m.net_benefit(Y6, P6, [0.25, 0.3, 0.55])
    expected = [3 / 6 - 1 / 6 * (0.25 / 0.75), 3 / 6 - 1 / 6 * (0.3 / 0.7), 2 / 6]
    np.testing.assert_allclose(nb, expected)


def test_net_benefit_treat_all_by_hand():
    y = np.array([1, 0, 0, 1, 0, 0])  # prevalence 1/3
    np.testing.assert_allclose(
        m.net_benefit_treat_all(y, [0.25, 0.5]), [1 / 3 - 2 / 3 * (1 / 3), 1 / 3 - 2 / 3]
    )


def test_net_benefit_equals_treat_all_below_every_prediction():
    np.testing.assert_allclose(m.net_benefit(Y6, P6, [0.05]), m.net_benefit_treat_all(Y6, [0.05]))


def test_net_benefit_rejects_thresholds_outside_unit_interval():
    with pytest.raises(ConfigError):
        m.net_benefit(Y6, P6, [0.0, 0.5])


def test_counterfactual_net_benefit_by_hand():
    p = np.array([0.8, 0.4, 0.1])
    p_treated = np.array([0.6, 0.5, 0.2])
    p_control = np.array([0.1, 0.5, 0.1])
    out = m.counterfactual_net_benefit(p, p_treated, p_control, [0.3])
    # The model treats patients 1 and 2, the oracle (p_treated >= 0.3) the same two.
    assert out["model"][0] == pytest.approx((0.3 + 0.2) / 3 / 0.7)
    assert out["treat_all"][0] == pytest.approx((0.3 + 0.2 - 0.1) / 3 / 0.7)
    assert out["gain_model"][0] == pytest.approx(0.5 / 3)
    assert out["gain_treat_all"][0] == pytest.approx(0.6 / 3)
    assert out["treated_model"][0] == pytest.approx(2 / 3)


def test_counterfactual_net_benefit_rejects_mismatched_or_invalid_risks():
    with pytest.raises(DataError):
        m.counterfactual_net_benefit([0.2, 0.4], [0.3, 0.5], [0.1], [0.3])
    with pytest.raises(DataError):
        m.counterfactual_net_benefit([0.2, 0.4], [0.3, 1.5], [0.1, 0.2], [0.3])


def test_oracle_beats_every_policy_and_treat_none_is_zero():
    rng = np.random.default_rng(4)
    n, t = 2000, np.linspace(0.02, 0.95, 40)
    p_treated, p_control = rng.uniform(size=n), rng.uniform(size=n) * 0.5
    noisy = expit(logit(p_treated) + rng.normal(scale=1.5, size=n))
    out = m.counterfactual_net_benefit(noisy, p_treated, p_control, t)
    np.testing.assert_array_equal(out["treat_none"], 0.0)
    for policy in ("model", "treat_all", "treat_none"):
        assert (out["oracle"] >= out[policy] - 1e-15).all()
    perfect = m.counterfactual_net_benefit(p_treated, p_treated, p_control, t)
    np.testing.assert_allclose(perfect["model"], perfect["oracle"])
    assert (out["oracle"] > out["model"]).any()


# --- bootstrap and optimism -------------------------------------------------------------------


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
