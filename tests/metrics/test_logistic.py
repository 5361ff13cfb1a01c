"""The batched Newton–Raphson logistic fit: the same optimum as scikit-learn, row by row."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logit
from sklearn.linear_model import LogisticRegression

from ketapredict.metrics.logistic import fit_logistic


def design(small: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    _, p = small
    return np.column_stack([np.ones_like(p), logit(p)])


def test_single_fit_matches_unpenalised_sklearn(small):
    y, _ = small
    X = design(small)
    beta, cov = fit_logistic(X, y)
    ref = LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12).fit(X[:, 1:], y)
    np.testing.assert_allclose(beta[0], [ref.intercept_[0], ref.coef_[0, 0]], atol=1e-6)
    assert cov.shape == (1, 2, 2) and (np.diag(cov[0]) > 0).all()


def test_batch_rows_equal_separate_weighted_fits(small, counts):
    y, _ = small
    X = design(small)
    batch, _ = fit_logistic(X, y, counts)
    single = np.vstack([fit_logistic(X, y, w)[0] for w in counts])
    np.testing.assert_allclose(batch, single, atol=1e-6)


def test_offset_fixes_the_slope(small):
    y, p = small
    x = logit(p)
    (intercept,), _ = fit_logistic(np.ones((y.size, 1)), y, offset=x)
    free = fit_logistic(np.ones((y.size, 1)), y, offset=x + 0.5)[0][0]
    assert free[0] == pytest.approx(intercept[0] - 0.5, abs=1e-6)


def test_perfect_separation_gives_nan():
    x = np.r_[np.linspace(-2, -0.1, 20), np.linspace(0.1, 2, 20)]
    beta, _ = fit_logistic(np.column_stack([np.ones_like(x), x]), (x > 0).astype(float))
    assert np.isnan(beta).all()
