"""Performance measures for binary clinical prediction models: discrimination, calibration, use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from scipy.stats import norm
from sklearn import metrics as skm

from ketapredict.errors import ConfigError, DataError

Array = np.ndarray
MetricFn = Callable[..., Any]

_CLIP = 1e-12
# Harrell, Regression Modeling Strategies (2015), table 2.3: knot quantiles for k knots.
_RCS_QUANTILES = {
    3: (0.10, 0.50, 0.90),
    4: (0.05, 0.35, 0.65, 0.95),
    5: (0.05, 0.275, 0.50, 0.725, 0.95),
    6: (0.05, 0.23, 0.41, 0.59, 0.77, 0.95),
    7: (0.025, 0.1833, 0.3417, 0.50, 0.6583, 0.8167, 0.975),
}


def _check_outcome(y: Any) -> Array:
    y = np.asarray(y)
    if y.ndim != 1 or not np.isin(y, (0, 1)).all():
        raise DataError(f"y must be a 1-D array of 0 and 1, got shape {y.shape}")
    return y.astype(float)


def _check_proba(p: Any) -> Array:
    p = np.asarray(p, dtype=float)
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise DataError("probabilities must be finite and in [0, 1]")
    return p


def _check(y: Any, p: Any) -> tuple[Array, Array]:
    """Validate outcome and probability vectors; the core's inputs come from files users edit."""
    y, p = _check_outcome(y), _check_proba(p)
    if y.shape != p.shape:
        raise DataError(f"y and p differ in length: {y.shape} vs {p.shape}")
    return y, p


def _check_thresholds(thresholds: Any) -> Array:
    t = np.atleast_1d(np.asarray(thresholds, dtype=float))
    if not ((t > 0) & (t < 1)).all():
        raise ConfigError("net-benefit thresholds must lie strictly between 0 and 1")
    return t


def _logit(p: Array) -> Array:
    return logit(np.clip(p, _CLIP, 1 - _CLIP))


def _weighted_mean(values: Array, weights: Array | None) -> float | Array:
    """Mean of `values` under frequency weights shaped (n,) or (B, n); one value per row."""
    if weights is None:
        return float(values.mean())
    return (weights @ values) / weights.sum(axis=-1)


# --- discrimination -------------------------------------------------------------------------


def auroc(y: Array, p: Array, weights: Array | None = None) -> float | Array:
    """Area under the ROC curve; with (B, n) weights, one AUROC per row, computed in one pass.

    The batch path is the Mann–Whitney statistic with frequency weights: for each positive, the
    weight of negatives ranked below it plus half the tied weight. It is what makes a bootstrap
    of 1000 resamples cost one sort instead of 1000 calls to scikit-learn.
    """
    y, p = _check(y, p)
    if weights is None or np.ndim(weights) == 1:
        return float(skm.roc_auc_score(y, p, sample_weight=weights))
    pos = y == 1
    w_pos, w_neg = weights[:, pos], weights[:, ~pos]
    order = np.argsort(p[~pos])
    neg_sorted = p[~pos][order]
    cum_neg = np.zeros((weights.shape[0], neg_sorted.size + 1))
    np.cumsum(w_neg[:, order], axis=1, out=cum_neg[:, 1:])
    lo = np.searchsorted(neg_sorted, p[pos], side="left")
    hi = np.searchsorted(neg_sorted, p[pos], side="right")
    wins = cum_neg[:, lo] + 0.5 * (cum_neg[:, hi] - cum_neg[:, lo])
    return (w_pos * wins).sum(axis=1) / (w_pos.sum(axis=1) * w_neg.sum(axis=1))


def auprc(y: Array, p: Array, weights: Array | None = None) -> float | Array:
    """Average precision (scikit-learn's step-wise area under the PR curve); batch with (B, n)."""
    y, p = _check(y, p)
    if weights is None or np.ndim(weights) == 1:
        return float(skm.average_precision_score(y, p, sample_weight=weights))
    order = np.argsort(-p, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(p[order])) + 1]
    w_sorted = weights[:, order]
    tp_at = np.add.reduceat(w_sorted * y[order], starts, axis=1)
    tp = np.cumsum(tp_at, axis=1)
    flagged = np.cumsum(np.add.reduceat(w_sorted, starts, axis=1), axis=1)
    precision = np.divide(tp, flagged, out=np.zeros_like(tp), where=flagged > 0)
    return (tp_at * precision).sum(axis=1) / tp[:, -1]


def discrimination(y: Array, p: Array) -> dict[str, float]:
    """AUROC (ranking of cases above non-cases) and AUPRC (precision across recall levels)."""
    return {"auroc": auroc(y, p), "auprc": auprc(y, p)}


# --- accuracy of probabilities ----------------------------------------------------------------


def brier(y: Array, p: Array, weights: Array | None = None) -> float | Array:
    """Mean squared error of the probabilities; batch with (B, n) weights."""
    y, p = _check(y, p)
    if weights is None or np.ndim(weights) == 1:
        return float(skm.brier_score_loss(y, p, sample_weight=weights))
    return _weighted_mean((y - p) ** 2, weights)


def scaled_brier(y: Array, p: Array, weights: Array | None = None) -> float | Array:
    """1 − Brier / Brier of the prevalence-only model: the share of outcome variance explained."""
    y, p = _check(y, p)
    prevalence = _weighted_mean(y, weights)
    return 1 - brier(y, p, weights) / (prevalence * (1 - prevalence))


def log_loss(y: Array, p: Array, weights: Array | None = None) -> float | Array:
    """Mean negative log-likelihood of the outcomes; batch with (B, n) weights."""
    y, p = _check(y, p)
    if weights is None or np.ndim(weights) == 1:
        return float(skm.log_loss(y, p, sample_weight=weights, labels=[0, 1]))
    q = np.clip(p, np.finfo(float).eps, 1 - np.finfo(float).eps)
    return _weighted_mean(-(y * np.log(q) + (1 - y) * np.log1p(-q)), weights)


# --- calibration ------------------------------------------------------------------------------


def _loglik(X: Array, y: Array, w: Array, offset: Array, beta: Array) -> Array:
    eta = beta @ X.T
    eta += offset
    return ((y * eta - np.logaddexp(0, eta)) * w).sum(axis=1)


def _newton_step(
    X: Array, y: Array, w: Array, offset: Array, beta: Array, outer: Array
) -> tuple[Array, Array]:
    """Newton step and inverse information (the covariance) for each row of weights."""
    mu = beta @ X.T
    mu += offset
    expit(mu, out=mu)
    residual = y - mu
    residual *= w
    mu *= 1 - mu
    mu *= w
    k = X.shape[1]
    cov = np.linalg.pinv((mu @ outer).reshape(-1, k, k))
    return (cov @ (residual @ X)[:, :, None])[:, :, 0], cov


def _damp_step(X: Array, y: Array, w: Array, offset: Array, beta: Array, step: Array) -> Array:
    """Halve a Newton step until it raises the likelihood (as R's glm.fit does on divergence).

    Where the likelihood is nearly flat a raw step can move the log-odds by thousands.
    """
    before = _loglik(X, y, w, offset, beta)
    for _ in range(50):
        worse = _loglik(X, y, w, offset, beta + step) < before - 1e-12 * np.abs(before)
        if not worse.any():
            return step
        step[worse] /= 2
    step[worse] = 0.0  # not even a sliver of the step helps: beta is the optimum
    return step


def _fit_logistic(
    X: Array, y: Array, weights: Array | None = None, offset: Array | None = None
) -> tuple[Array, Array]:
    """Unpenalised logistic regression by Newton–Raphson, batched over rows of (B, n) weights.

    scikit-learn's LogisticRegression has no offset term, which calibration-in-the-large needs.
    Returns coefficients (B, k) and covariance (B, k, k); rows that do not converge (e.g.
    perfect separation) are NaN. A single fit starts at zero and damps overshooting steps; a
    batch starts from the fit to its mean weights, close enough to every row's optimum for
    plain Newton, so 1000 bootstrap fits cost a few passes over the data.
    """
    n, k = X.shape
    w = np.ones((1, n)) if weights is None else np.atleast_2d(np.asarray(weights, dtype=float))
    offset = np.zeros(n) if offset is None else offset
    batch = w.shape[0] > 1
    start = _fit_logistic(X, y, w.mean(axis=0), offset)[0][0] if batch else np.zeros(k)
    beta = np.tile(np.nan_to_num(start), (w.shape[0], 1))
    cov = np.full((w.shape[0], k, k), np.nan)
    outer = (X[:, :, None] * X[:, None, :]).reshape(n, k * k)
    active = np.arange(w.shape[0])
    for _ in range(50):
        wa = w if active.size == w.shape[0] else w[active]
        step, cov[active] = _newton_step(X, y, wa, offset, beta[active], outer)
        if not batch:
            step = _damp_step(X, y, wa, offset, beta[active], step)
        beta[active] += step
        active = active[~(np.abs(step).max(axis=1) < 1e-6)]
        if active.size == 0:
            break
    beta[active] = np.nan
    return beta, cov


def _calibration_fits(y: Array, p: Array, weights: Array | None, which: str) -> float | Array:
    y, p = _check(y, p)
    x = _logit(p)
    if which == "intercept":
        value = _fit_logistic(np.ones((y.size, 1)), y, weights, offset=x)[0][:, 0]
    else:
        value = _fit_logistic(np.column_stack([np.ones_like(x), x]), y, weights)[0][:, 1]
    return float(value[0]) if weights is None or np.ndim(weights) == 1 else value


def calibration_intercept(y: Array, p: Array, weights: Array | None = None) -> float | Array:
    """Calibration-in-the-large: a in logit P(y) = a + logit(p), the slope fixed at 1 by offset.

    Below 0 means risks are overestimated on average. p is clipped to [1e-12, 1 − 1e-12].
    """
    return _calibration_fits(y, p, weights, "intercept")


def calibration_slope(y: Array, p: Array, weights: Array | None = None) -> float | Array:
    """Calibration slope: b in logit P(y) = a + b·logit(p); below 1 means too extreme risks."""
    return _calibration_fits(y, p, weights, "slope")


def calibration_intercept_slope(
    y: Array, p: Array, weights: Array | None = None
) -> tuple[float | Array, float | Array]:
    """(intercept, slope): weak calibration in the hierarchy of Van Calster et al. (JCE 2016)."""
    return calibration_intercept(y, p, weights), calibration_slope(y, p, weights)


def _rcs_basis(x: Array, knots: Array) -> Array:
    """Restricted cubic spline basis (linear beyond the outer knots), Harrell's normalisation."""
    k = knots.size
    if k < 3:
        return np.column_stack([np.ones_like(x), x])
    scale = (knots[-1] - knots[0]) ** 2
    a, b = knots[-2], knots[-1]
    cube = {t: np.maximum(x - t, 0) ** 3 for t in knots}
    columns = [
        (cube[t] - cube[a] * (b - t) / (b - a) + cube[b] * (a - t) / (b - a)) / scale
        for t in knots[: k - 2]
    ]
    return np.column_stack([np.ones_like(x), x, *columns])


@dataclass(frozen=True)
class SmoothedCalibration:
    """A smoothed calibration curve with a pointwise band, and the error summaries drawn from it."""

    grid: Array
    observed: Array
    lower: Array
    upper: Array
    ici: float
    e50: float
    e90: float
    emax: float


def smoothed_calibration(
    y: Array, p: Array, *, grid: Array | None = None, n_knots: int = 5, level: float = 0.95
) -> SmoothedCalibration:
    """Smoothed calibration curve: logistic regression of y on a restricted cubic spline of logit p.

    Chosen over loess because it stays inside (0, 1), is linear (not wild) in the sparse tails,
    has a delta-method confidence band from the same fit, and costs one small Newton solve
    (Austin & Steyerberg 2019 use loess and spline smoothers interchangeably for the ICI).
    Knots sit at Harrell's quantiles of logit(p). ICI (Eavg), E50, E90 and Emax summarise
    |p − smoothed observed(p)| over the patients (Austin & Steyerberg, Stat Med 2019;38:4051).
    """
    if n_knots not in _RCS_QUANTILES:
        raise ConfigError(f"n_knots must be one of {sorted(_RCS_QUANTILES)}, got {n_knots}")
    y, p = _check(y, p)
    x = _logit(p)
    knots = np.unique(np.quantile(x, _RCS_QUANTILES[n_knots]))
    design = _rcs_basis(x, knots)
    beta, cov = _fit_logistic(design, y)
    errors = np.abs(p - expit(design @ beta[0]))
    grid = np.linspace(p.min(), p.max(), 100) if grid is None else np.asarray(grid, dtype=float)
    g_design = _rcs_basis(_logit(grid), knots)
    eta = g_design @ beta[0]
    half = norm.ppf(0.5 + level / 2) * np.sqrt(np.einsum("ij,jk,ik->i", g_design, cov[0], g_design))
    return SmoothedCalibration(
        grid=grid,
        observed=expit(eta),
        lower=expit(eta - half),
        upper=expit(eta + half),
        ici=float(errors.mean()),
        e50=float(np.median(errors)),
        e90=float(np.quantile(errors, 0.9)),
        emax=float(errors.max()),
    )


def binned_calibration(
    y: Array, p: Array, n_bins: int = 10, strategy: Literal["quantile", "uniform"] = "quantile"
) -> pd.DataFrame:
    """Mean predicted risk, observed proportion and count per bin; empty bins are dropped.

    Bins exactly as sklearn.calibration.calibration_curve does, which does not report counts.
    """
    y, p = _check(y, p)
    if strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        raise ConfigError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")
    ids = np.searchsorted(edges[1:-1], p)
    count = np.bincount(ids, minlength=n_bins)
    keep = count > 0
    return pd.DataFrame(
        {
            "mean_predicted": np.bincount(ids, p, n_bins)[keep] / count[keep],
            "observed": np.bincount(ids, y, n_bins)[keep] / count[keep],
            "count": count[keep],
        }
    )


def calibration_error_vs_truth(p: Array, p_true: Array) -> dict[str, float]:
    """Distance of predicted from true risks, patient by patient: needs no binning or smoothing.

    Only synthetic data has p_true; these are the ICI-family measures with the truth in place of
    the smoothed curve: mean_abs (Eavg), rms, e50, e90, emax.
    """
    p, p_true = np.asarray(p, dtype=float), np.asarray(p_true, dtype=float)
    if p.shape != p_true.shape:
        raise DataError(f"p and p_true differ in shape: {p.shape} vs {p_true.shape}")
    diff = np.abs(p - p_true)
    return {
        "mean_abs": float(diff.mean()),
        "rms": float(np.sqrt(np.mean(diff**2))),
        "e50": float(np.median(diff)),
        "e90": float(np.quantile(diff, 0.9)),
        "emax": float(diff.max()),
    }


# --- clinical usefulness ----------------------------------------------------------------------


def net_benefit(y: Array, p: Array, thresholds: Array, weights: Array | None = None) -> Array:
    """Decision-curve net benefit of "treat if p ≥ t": TP/n − FP/n · t/(1 − t).

    t/(1 − t) is the exchange rate implied by the threshold: the harm of treating a non-case in
    units of the benefit of treating a case (Vickers & Elkin, Med Decis Making 2006).
    Case weights (n,) (e.g. IPCW: a row censored without a label weighs 0) give one curve;
    (B, n) resample counts give one curve per row, shape (B, thresholds).
    """
    y, p = _check(y, p)
    t = _check_thresholds(thresholds)
    if weights is not None:
        treat = (p[:, None] >= t[None, :]).astype(float)
        w = np.asarray(weights, dtype=float)
        tp, fp = w @ (y[:, None] * treat), w @ ((1 - y)[:, None] * treat)
        return (tp - fp * t / (1 - t)) / w.sum(axis=-1)[..., None]
    order = np.argsort(p)
    below = np.searchsorted(p[order], t, side="left")
    cases_below = np.r_[0, np.cumsum(y[order])][below]
    tp = y.sum() - cases_below
    fp = (p.size - below) - tp
    return (tp - fp * t / (1 - t)) / p.size


def net_benefit_treat_all(y: Array, thresholds: Array, weights: Array | None = None) -> Array:
    """Net benefit of treating everyone: prevalence − (1 − prevalence) · t/(1 − t)."""
    y = _check_outcome(y)
    t = _check_thresholds(thresholds)
    prevalence = float(np.average(y, weights=weights))
    return prevalence - (1 - prevalence) * t / (1 - t)


def counterfactual_net_benefit(
    p: Array, p_treated: Array, p_control: Array, thresholds: Array
) -> dict[str, Array]:
    """Expected decision curve of "treat if p ≥ t", scored with true response risks in both arms.

    The outcome is response, a good outcome; p_treated and p_control are its true probabilities
    under the treatment and under the comparator (synthetic data has both for every patient).
    t is the least probability of response on treatment at which a clinician would give it,
    so treating costs t/(1 − t) responses per treated non-responder (Vickers & Elkin 2006).
    With the true risks known, the expected counts replace observed ones (as trial arms do in
    Vickers, Kattan & Sargent, Trials 2007;8:14):

        net_benefit(t) = mean_i treat_i · (p_treated_i − t) / (1 − t),

    which is 0 for treat-none and is maximised by the oracle, treat_i = p_treated_i ≥ t.
    gain(t) = mean_i treat_i · (p_treated_i − p_control_i) is the causal side: responses gained
    per patient over giving everyone the comparator. Net benefit credits responses that would
    have happened on the comparator too; gain shows how much of it the treatment caused.
    Returns, per threshold: {model, treat_all, treat_none, oracle} net benefit and
    gain_{model, treat_all, oracle}, plus treated_{model, oracle} (fraction treated).
    """
    p, p_treated, p_control = (_check_proba(a) for a in (p, p_treated, p_control))
    if not p.ndim == 1 or not p.shape == p_treated.shape == p_control.shape:
        raise DataError("p, p_treated and p_control must be 1-D and of the same length")
    t = _check_thresholds(thresholds)[:, None]
    policies = {
        "model": p >= t,
        "treat_all": np.ones((t.size, p.size), dtype=bool),
        "oracle": p_treated >= t,
    }
    out: dict[str, Array] = {"treat_none": np.zeros(t.size)}
    for name, treat in policies.items():
        out[name] = (treat * (p_treated - t)).mean(axis=1) / (1 - t[:, 0])
        out[f"gain_{name}"] = (treat * (p_treated - p_control)).mean(axis=1)
    out["treated_model"] = policies["model"].mean(axis=1)
    out["treated_oracle"] = policies["oracle"].mean(axis=1)
    return out


# --- uncertainty and optimism -----------------------------------------------------------------


def _bootstrap_indices(
    y: Array, rng: np.random.Generator, n_resamples: int, stratified: bool
) -> Array:
    """Row indices (B, n) of bootstrap samples; stratified keeps each class's size fixed."""
    strata = [np.flatnonzero(y == c) for c in (0, 1)] if stratified else [np.arange(y.size)]
    draws = [s[rng.integers(0, s.size, size=(n_resamples, s.size))] for s in strata if s.size]
    return np.hstack(draws)


def bootstrap_counts(
    y: Array, rng: np.random.Generator, n_resamples: int, stratified: bool
) -> Array:
    """How often each patient appears in each resample, (B, n): a resample as frequency weights."""
    idx = _bootstrap_indices(y, rng, n_resamples, stratified)
    flat = idx + y.size * np.arange(n_resamples)[:, None]
    counts = np.bincount(flat.ravel(), minlength=n_resamples * y.size)
    return counts.reshape(n_resamples, -1).astype(float)


def _interval(estimate: float, draws: Array, level: float) -> tuple[float, float, float]:
    low, high = np.nanquantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return float(estimate), float(low), float(high)


def bootstrap_ci(
    metric_fn: MetricFn,
    y: Array,
    p: Array,
    *,
    rng: np.random.Generator,
    n_resamples: int = 1000,
    level: float = 0.95,
    stratified: bool | None = None,
) -> tuple[float, float, float]:
    """Estimate and percentile bootstrap interval of a metric.

    metric_fn(y, p) gives the estimate; metric_fn(y, p, weights) with weights (B, n) of resample
    counts must return one value per resample — every metric here does, in one vectorised pass,
    so 1000 resamples cost about as much as a few ordinary evaluations.
    stratified resamples within outcome classes, keeping the number of events fixed. That suits
    the rank measures (AUROC, AUPRC), and None chooses it for them only: for measures that
    depend on the event count it removes real variance — the calibration intercept's stratified
    interval covered the truth about 65 % of the time in simulation, the ordinary one 95 %.
    """
    y, p = _check(y, p)
    stratified = metric_fn in STRATIFIED if stratified is None else stratified
    counts = bootstrap_counts(y, rng, n_resamples, stratified)
    return _interval(metric_fn(y, p), np.asarray(metric_fn(y, p, counts)), level)


STRATIFIED = (auroc, auprc)
BOOTSTRAP_METRICS: dict[str, MetricFn] = {
    "auroc": auroc,
    "auprc": auprc,
    "brier": brier,
    "scaled_brier": scaled_brier,
    "log_loss": log_loss,
    "calibration_intercept": calibration_intercept,
    "calibration_slope": calibration_slope,
}


def bootstrap_metrics(
    y: Array,
    p: Array,
    *,
    rng: np.random.Generator,
    n_resamples: int = 1000,
    level: float = 0.95,
    weights: Array | None = None,
) -> dict[str, tuple[float, float, float]]:
    """(estimate, low, high) for every measure in BOOTSTRAP_METRICS.

    The rank measures share one set of stratified resamples, the others one set of ordinary
    resamples (see bootstrap_ci for why). Case `weights` (e.g. inverse probability of
    censoring) multiply each patient's resample count, and weight the estimate.
    """
    y, p = _check(y, p)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    counts = {s: bootstrap_counts(y, rng, n_resamples, s) * w for s in (True, False)}
    return {
        name: _interval(fn(y, p, w), np.asarray(fn(y, p, counts[fn in STRATIFIED])), level)
        for name, fn in BOOTSTRAP_METRICS.items()
    }


def optimism_corrected(
    fit_predict: Callable[..., Array],
    X: Any,
    y: Array,
    weights: Array | None = None,
    *,
    groups: Array | None = None,
    rng: np.random.Generator,
    n_resamples: int = 200,
    workers: int = 1,
) -> dict[str, dict[str, float]]:
    """Harrell's bootstrap optimism correction of AUROC and calibration slope.

    fit_predict(X_train, y_train, w_train, groups_train, X_eval) repeats the whole modelling
    procedure with the rows' weights (IPCW for relapse: rows censored without a label weigh 0)
    and grouping (a patient drawn twice stays in one cross-validation fold) and returns
    probabilities for X_eval; the measures use the same weights. For each resample the
    procedure is fitted on the resample and scored on it (apparent) and on the original data
    (test); the mean difference is the optimism, and corrected = apparent on the original
    data − optimism (Harrell, Lee & Mark, Stat Med 1996).
    The predictions on the resample are those on the original rows it drew, so one fit suffices;
    resamples keep the class sizes, so no resample lacks events. The fits run in `workers`
    processes; the resamples are drawn first, so the result does not depend on `workers`.
    """
    from ketapredict.parallel import map_ordered

    y = np.asarray(y)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    g = np.arange(len(y)) if groups is None else np.asarray(groups)
    rows = X.iloc if hasattr(X, "iloc") else X
    measures = {"auroc": auroc, "calibration_slope": calibration_slope}
    resamples = list(_bootstrap_indices(y, rng, n_resamples, stratified=True))
    jobs = [(X, y, w, g, X)] + [(rows[idx], y[idx], w[idx], g[idx], X) for idx in resamples]
    p_full, *refits = map_ordered(fit_predict, jobs, workers=workers)
    apparent = {name: fn(y, p_full, w) for name, fn in measures.items()}
    gaps: dict[str, list[float]] = {name: [] for name in measures}
    for idx, p_orig in zip(resamples, refits, strict=True):
        p_orig = np.asarray(p_orig)
        for name, fn in measures.items():
            gaps[name].append(fn(y[idx], p_orig[idx], w[idx]) - fn(y, p_orig, w))
    return {
        name: {
            "apparent": float(apparent[name]),
            "optimism": float(np.nanmean(gaps[name])),
            "optimism_mcse": float(np.nanstd(gaps[name], ddof=1) / np.sqrt(len(gaps[name]))),
            "corrected": float(apparent[name] - np.nanmean(gaps[name])),
        }
        for name in measures
    }
