"""Outcomes drawn from known risks, calibrated by construction, shared by the measures' tests."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from ketapredict import metrics as m


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
    """Four stratified bootstrap resamples of `small`, as (4, n) frequency weights."""
    y, _ = small
    return m.bootstrap_counts(y, np.random.default_rng(3), 4, stratified=True)
