"""Unpenalised logistic regression with an offset, by Newton–Raphson, batched over weights."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ketapredict.metrics.inputs import Array


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


def fit_logistic(
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
    start = fit_logistic(X, y, w.mean(axis=0), offset)[0][0] if batch else np.zeros(k)
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
