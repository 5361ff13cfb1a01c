"""The measurement layer: covariates as recorded, which need not be the true ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from ketapredict.cohort.distributions import (
    Bernoulli,
    Distribution,
    LogNormal,
    Normal,
    Poisson,
    ZeroInflatedLogNormal,
)
from ketapredict.cohort.population import PopulationSpec
from ketapredict.validation import Strict


class Misclassification(Strict):
    """A binary history as recorded: a true 1 is recorded 1 with probability `sensitivity`,
    a true 0 is recorded 0 with probability `specificity`."""

    sensitivity: float = Field(ge=0, le=1)
    specificity: float = Field(ge=0, le=1)


class DoseNoise(Strict):
    """A recorded amount: the true one times a log-normal factor of mean 1 and this
    coefficient of variation, so a zero stays zero and the mean is kept."""

    cv: float = Field(ge=0)


class Measurement(Strict):
    """How a trial records its covariates and rates its scale."""

    misclassified: dict[str, Misclassification] = {
        # COGA, Alcohol Clin Exp Res 1995 (doi:10.1111/j.1530-0277.1995.tb00983.x): the
        # family-history method with >= 3 reports has sensitivity 39 %, specificity 98 %;
        # more informants raise sensitivity (J Psychiatr Res 1992;26:135-47).
        # assumption: 0.6 / 0.97, anchored there.
        "family_history_aud": Misclassification(sensitivity=0.6, specificity=0.97),
        # Nock MK et al., Psychol Assess 2007;19:309-17: SITBI test-retest kappa .70; endorsement
        # is highest on a confidential survey, i.e. attempts are under-reported.
        # assumption: 0.8 / 0.97, anchored there.
        "prior_suicide_attempt": Misclassification(sensitivity=0.8, specificity=0.97),
    }
    noisy: dict[str, DoseNoise] = {
        # assumption: no source on how accurately concomitant doses are recorded.
        "benzodiazepine_mg": DoseNoise(cv=0.3),
    }
    # SD of one rating, in MADRS points; applied to visit scores by the generator core.
    # Derived from Sapko MT et al., J Clin Psychopharmacol 2025;45:28-31: mean absolute
    # site-central difference 1.78, so one rating's SD = 1.78 * sqrt(pi/2) / sqrt(2) = 1.6.
    rater_sd: float = Field(default=1.6, ge=0)

    def check_columns(self, population: PopulationSpec) -> None:
        """Each misclassified column is a binary covariate, each noisy one non-negative."""
        covariates = population.covariates
        for name in self.misclassified:
            if name not in covariates:
                raise ValueError(f"measurement.misclassified: undefined covariate {name!r}")
            if not isinstance(covariates[name].distribution, Bernoulli):
                raise ValueError(
                    f"measurement.misclassified.{name}: only a 0/1 (bernoulli) covariate "
                    "can be misclassified; give a numeric one noise under `noisy`"
                )
        for name in self.noisy:
            if name not in covariates:
                raise ValueError(f"measurement.noisy: undefined covariate {name!r}")
            if not _non_negative(covariates[name].distribution):
                raise ValueError(
                    f"measurement.noisy.{name}: multiplicative noise needs a non-negative "
                    "numeric covariate; misclassify a 0/1 one under `misclassified`"
                )


def _non_negative(dist: Distribution) -> bool:
    if isinstance(dist, Normal):
        return dist.low >= 0
    return isinstance(dist, LogNormal | Poisson | ZeroInflatedLogNormal)


def observe(
    covariates: pd.DataFrame, measurement: Measurement, rng: np.random.Generator
) -> pd.DataFrame:
    """The recorded copy of true covariates: binary histories misclassified, amounts noisy.

    The input is left as it was; missing values stay missing; columns the frame lacks are
    skipped. Draws one uniform per patient for each misclassified column, then one normal per
    patient for each noisy column, in the order they are listed."""
    out = dict(covariates.items())  # the columns left as they are shared, not copied
    n = len(covariates)
    for name, error in measurement.misclassified.items():
        if name in out:
            out[name] = _misclassify(out[name].to_numpy(np.float64), error, rng.random(n))
    for name, noise in measurement.noisy.items():
        if name in out:
            out[name] = _add_noise(out[name].to_numpy(np.float64), noise, rng.standard_normal(n))
    return pd.DataFrame(out, index=covariates.index, copy=False)


def _misclassify(x: np.ndarray, error: Misclassification, u: np.ndarray) -> np.ndarray:
    flip = np.where(x == 1, u >= error.sensitivity, u >= error.specificity)
    return np.where(flip, 1.0 - x, x)


def _add_noise(x: np.ndarray, noise: DoseNoise, z: np.ndarray) -> np.ndarray:
    sigma = np.sqrt(np.log1p(noise.cv**2))
    return x * np.exp(sigma * z - sigma**2 / 2)
