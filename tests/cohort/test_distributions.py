"""Marginal distributions: the copula shortcut equals the inverse CDF; bounds and moments hold."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from ketapredict.cohort.distributions import (
    Bernoulli,
    LogNormal,
    Normal,
    Poisson,
    ZeroInflatedLogNormal,
)

Z = np.random.default_rng(0).standard_normal(100_000)

DISTRIBUTIONS = [
    Normal(dist="normal", mean=45, sd=12, low=18, high=70),
    LogNormal(dist="lognormal", median=24, sigma=1.0, low=1, high=600),
    Bernoulli(dist="bernoulli", p=0.3),
    Poisson(dist="poisson", mean=3.2, max=12),
    ZeroInflatedLogNormal(dist="zero_inflated_lognormal", p_nonzero=0.25, median=2.0, sigma=0.5),
]


@pytest.mark.parametrize("d", DISTRIBUTIONS, ids=lambda d: d.dist)
def test_from_normal_is_the_inverse_cdf_of_the_normal_cdf(d) -> None:
    np.testing.assert_allclose(d.from_normal(Z), d.ppf(special.ndtr(Z)), rtol=1e-9, atol=1e-9)


def test_truncated_normal_stays_in_bounds_with_the_truncated_moments() -> None:
    d = DISTRIBUTIONS[0]
    x = d.from_normal(Z)
    assert x.min() >= 18 and x.max() <= 70
    ref = stats.truncnorm((18 - 45) / 12, (70 - 45) / 12, loc=45, scale=12)
    assert x.mean() == pytest.approx(ref.mean(), abs=0.15)
    assert x.std() == pytest.approx(ref.std(), rel=0.02)


def test_counts_shares_and_medians_match_the_parameters() -> None:
    lognormal, bernoulli, poisson, zi = DISTRIBUTIONS[1:]
    assert np.median(lognormal.from_normal(Z)) == pytest.approx(24, rel=0.03)
    assert bernoulli.from_normal(Z).mean() == pytest.approx(0.3, abs=0.005)
    counts = poisson.from_normal(Z)
    assert counts.mean() == pytest.approx(3.2, rel=0.02) and counts.max() <= 12
    dose = zi.from_normal(Z)
    assert (dose > 0).mean() == pytest.approx(0.25, abs=0.005)
    assert np.median(dose[dose > 0]) == pytest.approx(2.0, rel=0.05)


def test_decimals_round_the_draws() -> None:
    d = Normal(dist="normal", mean=25, sd=4, decimals=1)
    x = d.from_normal(Z[:1000])
    np.testing.assert_array_equal(x, np.round(x, 1))


def test_with_moments_moves_the_location_and_scale() -> None:
    normal, lognormal, bernoulli, poisson, zi = DISTRIBUTIONS
    assert normal.with_moments(50, None).mean == 50 and normal.with_moments(50, None).sd == 12
    assert lognormal.with_moments(30, 0.5).median == 30
    assert lognormal.with_moments(30, 0.5).sigma == 0.5
    assert bernoulli.with_moments(0.6, None).p == 0.6
    assert poisson.with_moments(None, None) == poisson
    assert zi.with_moments(0.5, None).p_nonzero == 0.5
