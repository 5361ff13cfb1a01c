"""Overall accuracy of the probabilities: Brier score, scaled Brier score, log loss."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from ketapredict.metrics.inputs import Array, check, weighted_mean


def brier(y: Array, p: Array, weights: Array | None = None) -> float | Array:
    """Mean squared error of the probabilities; batch with (B, n) weights."""
    y, p = check(y, p)
    if weights is None or np.ndim(weights) == 1:
        return float(skm.brier_score_loss(y, p, sample_weight=weights))
    return weighted_mean((y - p) ** 2, weights)


def scaled_brier(y: Array, p: Array, weights: Array | None = None) -> float | Array:
    """1 − Brier / Brier of the prevalence-only model: the share of outcome variance explained."""
    y, p = check(y, p)
    prevalence = weighted_mean(y, weights)
    return 1 - brier(y, p, weights) / (prevalence * (1 - prevalence))


def log_loss(y: Array, p: Array, weights: Array | None = None) -> float | Array:
    """Mean negative log-likelihood of the outcomes; batch with (B, n) weights."""
    y, p = check(y, p)
    if weights is None or np.ndim(weights) == 1:
        return float(skm.log_loss(y, p, sample_weight=weights, labels=[0, 1]))
    q = np.clip(p, np.finfo(float).eps, 1 - np.finfo(float).eps)
    return weighted_mean(-(y * np.log(q) + (1 - y) * np.log1p(-q)), weights)
