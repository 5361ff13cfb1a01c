"""Dropout and missing covariate values, MCAR or MAR on an observed covariate."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special

from ketapredict.cohort.specs import Dropout


def missing_probability(rule: Dropout, covariates: pd.DataFrame) -> np.ndarray:
    """Per-patient probability; under MAR its logit rises `strength` per SD of the covariate
    and its intercept is solved so the mean equals the configured rate."""
    n = len(covariates)
    if rule.rate == 0 or n == 0:
        return np.zeros(n)
    if rule.mechanism == "mcar":
        return np.full(n, rule.rate)
    x = covariates[rule.depends_on].to_numpy(dtype=np.float64)
    sd = np.nanstd(x)
    z = np.nan_to_num((x - np.nanmean(x)) / (sd if sd > 0 else 1.0))
    slope = rule.strength * z

    def gap(a: float) -> float:
        return float(special.expit(a + slope).mean() - rule.rate)

    intercept = optimize.brentq(gap, -30, 30, xtol=1e-10)
    return special.expit(intercept + slope)


def draw_dropout(
    rule: Dropout, covariates: pd.DataFrame, horizon_hours: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Hours since enrolment at which each patient drops out (inf for completers)."""
    drops = rng.random(len(covariates)) < missing_probability(rule, covariates)
    when = rng.random(len(covariates)) * horizon_hours
    return np.where(drops, when, np.inf)


def mask_covariates(
    rule: Dropout, columns: list[str], covariates: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Blank each listed column independently for a rate-share of patients (never the driver)."""
    out = covariates.copy()
    p = missing_probability(rule, covariates)
    for column in columns:
        if column == rule.depends_on:
            continue
        hit = rng.random(len(out)) < p
        out.loc[hit, column] = np.nan
    return out
