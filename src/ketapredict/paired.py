"""Paired bootstrap comparisons: both models scored on each resample, intervals of the gap."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from ketapredict import metrics

# The resamples are metrics' own; evaluation draws them through this module.
from ketapredict.metrics import resample_counts as resample_counts

Array = np.ndarray
LEVEL = 0.95


def interval(estimate: float, draws: Array) -> dict[str, float]:
    """The estimate with the percentile interval of its bootstrap draws."""
    estimate, low, high = metrics.percentile_interval(estimate, draws, LEVEL)
    return {"estimate": estimate, "low": low, "high": high}


def differences(
    y: Array,
    p_a: Array,
    p_b: Array,
    w: Array,
    counts: dict[bool, Array],
    thresholds: Array,
) -> tuple[dict[str, dict[str, float]], pd.DataFrame]:
    """a − b in AUROC, Brier, and net benefit at each threshold and on average over them, with
    paired percentile intervals. Returns the summary ({measure: estimate, low, high}) and the
    per-threshold net-benefit differences."""
    out: dict[str, dict[str, float]] = {}
    for name, fn in (("auroc", metrics.auroc), ("brier", metrics.brier)):
        c = counts[fn in metrics.STRATIFIED]
        draws = np.asarray(fn(y, p_a, c)) - np.asarray(fn(y, p_b, c))
        out[name] = interval(fn(y, p_a, w) - fn(y, p_b, w), draws)
    nb = metrics.net_benefit(y, p_a, thresholds, w) - metrics.net_benefit(y, p_b, thresholds, w)
    c = counts[False]
    nb_draws = metrics.net_benefit(y, p_a, thresholds, c) - metrics.net_benefit(
        y, p_b, thresholds, c
    )
    out["net_benefit_mean"] = interval(float(nb.mean()), nb_draws.mean(axis=1))
    low, high = metrics.percentile_bounds(nb_draws, LEVEL, axis=0)
    curve = pd.DataFrame({"threshold": thresholds, "estimate": nb, "low": low, "high": high})
    return out, curve


def flat(summary: dict[str, dict[str, float]]) -> dict[str, float]:
    """{measure: {estimate, low, high}} as metrics.json keys: measure, measure_low, _high."""
    out: dict[str, float] = {}
    for name, v in summary.items():
        out.update({name: v["estimate"], f"{name}_low": v["low"], f"{name}_high": v["high"]})
    return out


def within_design_auroc(
    y: Array, p: Array, w: Array, design: Array, counts: Array | None = None
) -> float | Array:
    """Concordance over pairs of patients from the same design only: each design's AUROC
    weighted by its number of (event, non-event) pairs. A pooled AUROC also rewards knowing
    which design a patient came from; this does not. Designs without both outcomes are left
    out. With (B, n) counts, one value per resample."""
    weights = w if counts is None else counts
    total, pairs_sum = 0.0, 0.0
    for d in np.unique(design):
        idx = design == d
        if y[idx].min() == y[idx].max():
            continue
        wd = weights[..., idx]
        pairs = (wd @ y[idx]) * (wd @ (1 - y[idx]))
        with np.errstate(invalid="ignore", divide="ignore"):
            auc = np.asarray(metrics.auroc(y[idx], p[idx], wd))
        total = total + np.where(pairs > 0, auc * pairs, 0.0)
        pairs_sum = pairs_sum + pairs
    return total / pairs_sum if np.any(pairs_sum) else np.nan


def holm(p_values: Array) -> Array:
    """Holm's step-down adjustment of p-values (family-wise error rate)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    m = p.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def p_below(estimate: float, draws: Array, bound: float) -> float:
    """One-sided p-value for "the difference is below `bound`", from the bootstrap standard
    error (normal approximation: a p-value counted from B resamples cannot go below 1/B,
    too coarse for a multiplicity correction over many subgroups)."""
    se = float(np.nanstd(np.asarray(draws, dtype=float), ddof=1))
    if not se > 0:
        return 0.0 if estimate < bound else 1.0
    return float(norm.cdf((estimate - bound) / se))


def p_outside(estimate: float, draws: Array, margin: float) -> float:
    """Two-sided p-value for "the difference lies outside [-margin, margin]"."""
    d = np.asarray(draws, dtype=float)
    low, high = p_below(estimate, d, -margin), p_below(-estimate, -d, -margin)
    return min(1.0, 2 * min(low, high))
