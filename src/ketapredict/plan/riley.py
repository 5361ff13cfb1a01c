"""Riley's minimum sample size for developing a prediction model of a binary outcome (Riley
et al., Stat Med 2019; BMJ 2020), the three criteria as pmsampsize computes them:

1. expected uniform shrinkage of the predictor effects at least `shrinkage` (0.9: 10 % or
   less overfitting);
2. a small absolute difference (0.05) between the apparent and adjusted Nagelkerke R²;
3. the overall risk estimated within ±0.05 (95 % confidence).

The largest possible R² and criterion 2's shrinkage are rounded (2 and 3 digits) as in the
BMJ 2020 worked example and pmsampsize 1.0 (later versions drop the rounding, which moves
criterion 2 by about 1 %).

The anticipated Cox–Snell R² is here the truth's: the generator knows each patient's true
probability, so R²_CS is computed from it (`cox_snell_r2`) rather than guessed from a
published C statistic. Tested against pmsampsize's own worked examples (its testthat suite).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ketapredict.errors import DataError


@dataclass(frozen=True)
class RileySize:
    """The patients each criterion asks for, and the largest: the minimum sample size."""

    criterion_1: int
    criterion_2: int
    criterion_3: int
    prevalence: float
    parameters: int

    @property
    def minimum(self) -> int:
        return max(self.criterion_1, self.criterion_2, self.criterion_3)

    def events_per_parameter(self, n: int) -> float:
        return round(n * self.prevalence / self.parameters, 2)


def riley_binary(
    r2_cs: float, parameters: int, prevalence: float, *, shrinkage: float = 0.9
) -> RileySize:
    """pmsampsize(type = "b", csrsquared = r2_cs, parameters, prevalence, shrinkage)."""
    if not 0 < prevalence < 1:
        raise DataError(f"prevalence {prevalence}: must lie strictly between 0 and 1")
    if parameters < 1:
        raise DataError(f"parameters {parameters}: need at least 1 candidate parameter")
    if not 0 < r2_cs < shrinkage:
        raise DataError(f"Cox-Snell R² {r2_cs}: must be above 0 and below the shrinkage")
    n1 = _shrinkage_size(r2_cs, parameters, shrinkage)
    events = n1 * prevalence
    log_null = events * math.log(events / n1) + (n1 - events) * math.log(1 - events / n1)
    # rounded as pmsampsize 1.0 and the BMJ 2020 worked example (668 patients) round them
    max_r2 = round(1 - math.exp(2 * log_null / n1), 2)
    if r2_cs > max_r2:
        raise DataError(
            f"Cox-Snell R² {r2_cs}: above the largest possible ({max_r2:.3f}) at prevalence "
            f"{prevalence}"
        )
    small_difference = round(r2_cs / (r2_cs + 0.05 * max_r2), 3)
    n2 = _shrinkage_size(r2_cs, parameters, small_difference)
    n3 = math.ceil((1.96 / 0.05) ** 2 * prevalence * (1 - prevalence))
    return RileySize(n1, n2, n3, prevalence, parameters)


def _shrinkage_size(r2_cs: float, parameters: int, shrinkage: float) -> int:
    return math.ceil(parameters / ((shrinkage - 1) * math.log(1 - r2_cs / shrinkage)))


def cox_snell_r2(p: np.ndarray) -> float:
    """The Cox–Snell R² a model with the true probabilities `p` has in expectation: 1 −
    exp(2(ℓ_null − ℓ_true)/n), each log-likelihood its expectation under p."""
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    if p.size == 0:
        raise DataError("no probabilities to compute a Cox-Snell R² from")
    q = float(p.mean())
    log_true = float(np.mean(p * np.log(p) + (1 - p) * np.log(1 - p)))
    log_null = q * math.log(q) + (1 - q) * math.log(1 - q)
    return 1 - math.exp(2 * (log_null - log_true))
