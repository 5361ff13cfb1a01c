"""Calibration: agreement of predicted risks with outcomes (intercept, slope, curves, ICI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from ketapredict.errors import ConfigError, DataError
from ketapredict.metrics.inputs import Array, check, clipped_logit
from ketapredict.metrics.logistic import fit_logistic

# Harrell, Regression Modeling Strategies (2015), table 2.3: knot quantiles for k knots.
_RCS_QUANTILES = {
    3: (0.10, 0.50, 0.90),
    4: (0.05, 0.35, 0.65, 0.95),
    5: (0.05, 0.275, 0.50, 0.725, 0.95),
    6: (0.05, 0.23, 0.41, 0.59, 0.77, 0.95),
    7: (0.025, 0.1833, 0.3417, 0.50, 0.6583, 0.8167, 0.975),
}


def _calibration_fits(y: Array, p: Array, weights: Array | None, which: str) -> float | Array:
    y, p = check(y, p)
    x = clipped_logit(p)
    if which == "intercept":
        value = fit_logistic(np.ones((y.size, 1)), y, weights, offset=x)[0][:, 0]
    else:
        value = fit_logistic(np.column_stack([np.ones_like(x), x]), y, weights)[0][:, 1]
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
    y, p = check(y, p)
    x = clipped_logit(p)
    knots = np.unique(np.quantile(x, _RCS_QUANTILES[n_knots]))
    design = _rcs_basis(x, knots)
    beta, cov = fit_logistic(design, y)
    errors = np.abs(p - expit(design @ beta[0]))
    grid = np.linspace(p.min(), p.max(), 100) if grid is None else np.asarray(grid, dtype=float)
    g_design = _rcs_basis(clipped_logit(grid), knots)
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
    y, p = check(y, p)
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
