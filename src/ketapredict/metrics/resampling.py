"""Uncertainty and optimism by resampling: bootstrap intervals, Harrell's optimism correction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ketapredict.metrics.accuracy import brier, log_loss, scaled_brier
from ketapredict.metrics.calibration import calibration_intercept, calibration_slope
from ketapredict.metrics.discrimination import auprc, auroc
from ketapredict.metrics.inputs import Array, check
from ketapredict.parallel import map_ordered

MetricFn = Callable[..., Any]


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


def resample_counts(
    y: Array, w: Array, rng: np.random.Generator, n_resamples: int
) -> dict[bool, Array]:
    """Frequency weights (B, n) times the case weights `w`, keyed by `stratified`: True for the
    rank measures, False for those that depend on the event count (see bootstrap_ci)."""
    return {s: bootstrap_counts(y, rng, n_resamples, s) * w for s in (True, False)}


def percentile_bounds(draws: Array, level: float, axis: int | None = None) -> tuple[Any, Any]:
    """(low, high): the central `level` range of bootstrap draws, ignoring NaN (unfitted) draws;
    along `axis`, one pair of arrays."""
    low, high = np.nanquantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=axis)
    return low, high


def percentile_interval(estimate: float, draws: Array, level: float) -> tuple[float, float, float]:
    """(estimate, low, high): the estimate with the percentile interval of its bootstrap draws."""
    low, high = percentile_bounds(draws, level)
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
    y, p = check(y, p)
    stratified = metric_fn in STRATIFIED if stratified is None else stratified
    counts = bootstrap_counts(y, rng, n_resamples, stratified)
    return percentile_interval(metric_fn(y, p), np.asarray(metric_fn(y, p, counts)), level)


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
    y, p = check(y, p)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    counts = resample_counts(y, w, rng, n_resamples)
    return {
        name: percentile_interval(
            fn(y, p, w), np.asarray(fn(y, p, counts[fn in STRATIFIED])), level
        )
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
    y = np.asarray(y)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    g = np.arange(len(y)) if groups is None else np.asarray(groups)
    rows = X.iloc if hasattr(X, "iloc") else X
    measures = {"auroc": auroc, "calibration_slope": calibration_slope}
    resamples = list(_bootstrap_indices(y, rng, n_resamples, stratified=True))
    jobs = [(X, y, w, g, X)] + [(rows[idx], y[idx], w[idx], g[idx], X) for idx in resamples]
    p_full, *refits = map_ordered(
        fit_predict, jobs, workers=workers, progress="optimism: bootstrap refits"
    )
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
