"""Marginals and correlations of drawn covariates match the spec on a large sample."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ketapredict.cohort.distributions import Bernoulli, LogNormal, Normal, Poisson
from ketapredict.cohort.population import (
    Inclusion,
    draw_covariates,
    inclusion_criteria,
    sample_population,
)

N = 200_000


@pytest.fixture(scope="module")
def drawn(specs):
    return draw_covariates(specs.population, N, np.random.default_rng(7))


def test_marginals_match_the_spec(specs, drawn) -> None:
    for name, cov in specs.population.covariates.items():
        d, x = cov.distribution, drawn[name].to_numpy()
        if isinstance(d, Normal):
            a, b = (d.low - d.mean) / d.sd, (d.high - d.mean) / d.sd
            expected = stats.truncnorm(a, b, loc=d.mean, scale=d.sd)
            if name == "age_at_onset":  # capped at age minus episode length: only checks sd scale
                continue
            assert x.mean() == pytest.approx(expected.mean(), abs=0.02 * d.sd + 0.05), name
            assert x.std() == pytest.approx(expected.std(), rel=0.03), name
        elif isinstance(d, Bernoulli):
            if name == "comorbid_ptsd":
                continue  # set to 1 for a primary PTSD diagnosis
            assert x.mean() == pytest.approx(d.p, abs=0.005), name
        elif isinstance(d, Poisson):
            assert x.mean() == pytest.approx(d.mean, rel=0.02), name
        elif isinstance(d, LogNormal):
            assert np.median(x) == pytest.approx(d.median, rel=0.05), name
        else:  # zero-inflated log-normal
            assert (x > 0).mean() == pytest.approx(d.p_nonzero, abs=0.005), name
            assert np.median(x[x > 0]) == pytest.approx(d.median, rel=0.05), name


def test_continuous_correlations_match_the_copula(specs, drawn) -> None:
    continuous = {"age", "bmi", "systolic_bp", "diastolic_bp", "height_cm", "education_years"}
    checked = 0
    for c in specs.population.correlations:
        a, b = c.between
        if a in continuous and b in continuous:
            rho = stats.spearmanr(drawn[a], drawn[b]).statistic
            assert rho == pytest.approx(6 / np.pi * np.arcsin(c.r / 2), abs=0.02), (a, b)
            checked += 1
    assert checked >= 4


def test_binary_correlations_match_the_copula(specs, drawn) -> None:
    covariates = specs.population.covariates
    pairs = [
        c
        for c in specs.population.correlations
        if all(isinstance(covariates[n].distribution, Bernoulli) for n in c.between)
        and "comorbid_ptsd" not in c.between
    ]
    assert len(pairs) >= 2
    for c in pairs:
        a, b = c.between
        pa = specs.population.covariates[a].distribution.p
        pb = specs.population.covariates[b].distribution.p
        za, zb = stats.norm.ppf(1 - pa), stats.norm.ppf(1 - pb)
        both = stats.multivariate_normal([0, 0], [[1, c.r], [c.r, 1]]).cdf([-za, -zb])
        observed = ((drawn[a] == 1) & (drawn[b] == 1)).mean()
        assert observed == pytest.approx(both, abs=0.005), (a, b)


def test_onset_is_never_after_the_current_episode(drawn) -> None:
    assert (drawn["age_at_onset"] <= drawn["age"] - drawn["episode_months"] / 12).all()
    assert (drawn["age_at_onset"] >= 8).all()


def test_inclusion_criteria_hold_for_every_patient(specs) -> None:
    inc = Inclusion(age=(30, 50), min_failed_trials=3, min_baseline=25, medication_free=True)
    criteria = inclusion_criteria(inc, lambda x: x)
    frame = sample_population(specs.population, 5000, np.random.default_rng(1), criteria=criteria)
    assert len(frame) == 5000
    assert frame["age"].between(30, 50).all()
    assert (frame["n_failed_trials"] >= 3).all()
    assert (frame["baseline_madrs"] >= 25).all()
    assert (frame["antidepressant"] == 0).all() and (frame["benzodiazepine_mg"] == 0).all()


def test_inclusion_that_nobody_meets_is_an_error(specs) -> None:
    inc = Inclusion(age=(90, 95))
    criteria = inclusion_criteria(inc, lambda x: x)
    with pytest.raises(ValueError, match="inclusion criteria accept too few"):
        sample_population(specs.population, 100, np.random.default_rng(1), criteria=criteria)


def test_conditional_draws_keep_the_copula_after_inclusion(specs) -> None:
    """Inclusion on age only must leave the age-BMI-blood pressure dependence intact."""
    inc = Inclusion(age=(18, 85))
    criteria = inclusion_criteria(inc, lambda x: x)
    rng = np.random.default_rng(2)
    filtered = sample_population(specs.population, N, rng, criteria=criteria)
    plain = draw_covariates(specs.population, N, np.random.default_rng(3))
    for a, b in [("age", "systolic_bp"), ("bmi", "systolic_bp"), ("female", "height_cm")]:
        r_filtered = stats.spearmanr(filtered[a], filtered[b]).statistic
        r_plain = stats.spearmanr(plain[a], plain[b]).statistic
        assert r_filtered == pytest.approx(r_plain, abs=0.015), (a, b)
    for name in ("bmi", "female", "family_history_aud"):
        assert filtered[name].mean() == pytest.approx(plain[name].mean(), rel=0.02), name
