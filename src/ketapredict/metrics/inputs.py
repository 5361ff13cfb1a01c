"""Checks of the measures' inputs (outcomes, probabilities, thresholds) and their shared helpers."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logit

from ketapredict.errors import ConfigError, DataError

Array = np.ndarray

_CLIP = 1e-12


def check_outcome(y: Any) -> Array:
    """y as floats, or DataError unless it is a 1-D array of 0 and 1."""
    y = np.asarray(y)
    if y.ndim != 1 or not np.isin(y, (0, 1)).all():
        raise DataError(f"y must be a 1-D array of 0 and 1, got shape {y.shape}")
    return y.astype(float)


def check_proba(p: Any) -> Array:
    """p as floats, or DataError unless every value is finite and in [0, 1]."""
    p = np.asarray(p, dtype=float)
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise DataError("probabilities must be finite and in [0, 1]")
    return p


def check(y: Any, p: Any) -> tuple[Array, Array]:
    """Validate outcome and probability vectors; the core's inputs come from files users edit."""
    y, p = check_outcome(y), check_proba(p)
    if y.shape != p.shape:
        raise DataError(f"y and p differ in length: {y.shape} vs {p.shape}")
    return y, p


def check_thresholds(thresholds: Any) -> Array:
    """Decision thresholds as a 1-D array, or ConfigError unless each is strictly in (0, 1)."""
    t = np.atleast_1d(np.asarray(thresholds, dtype=float))
    if not ((t > 0) & (t < 1)).all():
        raise ConfigError("net-benefit thresholds must lie strictly between 0 and 1")
    return t


def clipped_logit(p: Array) -> Array:
    """logit(p) with p clipped to [1e-12, 1 − 1e-12], so certain predictions stay finite."""
    return logit(np.clip(p, _CLIP, 1 - _CLIP))


def weighted_mean(values: Array, weights: Array | None) -> float | Array:
    """Mean of `values` under frequency weights shaped (n,) or (B, n); one value per row."""
    if weights is None:
        return float(values.mean())
    return (weights @ values) / weights.sum(axis=-1)
