"""Dropout and missing covariate values: MCAR, MAR on an observed covariate, or MNAR."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special

from ketapredict.cohort.specs import Dropout


def missing_probability(
    rule: Dropout, covariates: pd.DataFrame, *, propensity: np.ndarray | None = None
) -> np.ndarray:
    """Per-patient probability, averaging to the configured rate. Under MAR its logit rises
    `strength` per SD of the covariate `depends_on`; under MNAR, per SD of minus `propensity`,
    an unobserved outcome propensity (higher = better outcome), so non-responders drop out."""
    if rule.mechanism == "mnar" and propensity is None:
        raise ValueError("MNAR dropout depends on the outcome propensity; pass propensity=")
    n = len(covariates)
    if rule.rate == 0 or n == 0:
        return np.zeros(n)
    if rule.mechanism == "mcar":
        return np.full(n, rule.rate)
    if rule.mechanism == "mnar":
        return _calibrated(rule, -np.asarray(propensity, dtype=np.float64))
    return _calibrated(rule, covariates[rule.depends_on].to_numpy(dtype=np.float64))


def _calibrated(rule: Dropout, driver: np.ndarray) -> np.ndarray:
    """Logit rising `strength` per SD of the driver, its intercept solved so the mean
    equals the rate."""
    sd = np.nanstd(driver)
    z = np.nan_to_num((driver - np.nanmean(driver)) / (sd if sd > 0 else 1.0))
    slope = rule.strength * z

    def gap(a: float) -> float:
        return float(special.expit(a + slope).mean() - rule.rate)

    intercept = optimize.brentq(gap, -30, 30, xtol=1e-10)
    return special.expit(intercept + slope)


def draw_dropout(
    rule: Dropout,
    covariates: pd.DataFrame,
    horizon_hours: np.ndarray,
    rng: np.random.Generator,
    *,
    propensity: np.ndarray | None = None,
) -> np.ndarray:
    """Hours since enrolment at which each patient drops out (inf for completers); MNAR
    dropout needs the patients' outcome `propensity`."""
    p = missing_probability(rule, covariates, propensity=propensity)
    drops = rng.random(len(covariates)) < p
    when = rng.random(len(covariates)) * horizon_hours
    return np.where(drops, when, np.inf)


def mask_covariates(
    rule: Dropout, columns: list[str], covariates: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Blank each listed column independently for a rate-share of patients (never the MAR
    driver); under MNAR a column is more often missing where its own value is high."""
    out = dict(covariates.items())  # the columns left whole are shared, not copied
    shared = None if rule.mechanism == "mnar" else missing_probability(rule, covariates)
    for column in columns:
        if column == rule.depends_on:
            continue
        p = _own_value_probability(rule, covariates[column]) if shared is None else shared
        hit = rng.random(len(covariates)) < p
        out[column] = covariates[column].mask(hit)
    return pd.DataFrame(out, copy=False)


def _own_value_probability(rule: Dropout, values: pd.Series) -> np.ndarray:
    if rule.rate == 0 or len(values) == 0:
        return np.zeros(len(values))
    return _calibrated(rule, values.to_numpy(dtype=np.float64))
