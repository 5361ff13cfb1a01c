"""Marginal distributions of baseline covariates: inverse CDFs applied to copula variables.

`ppf(u)` maps a uniform; `from_normal(z)` maps the copula's standard normal directly (the same
value as ppf(Phi(z)), cheaper where the distribution allows it)."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator
from scipy import special, stats

from ketapredict.validation import Strict


class Normal(Strict):
    """Normal, optionally truncated to [low, high]."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)
    low: float = -np.inf
    high: float = np.inf
    decimals: int | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Normal:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        a = special.ndtr((self.low - self.mean) / self.sd)
        b = special.ndtr((self.high - self.mean) / self.sd)
        x = self.mean + self.sd * special.ndtri(a + u * (b - a))
        x = np.clip(x, self.low, self.high)
        return np.round(x, self.decimals) if self.decimals is not None else x

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        return self.ppf(special.ndtr(z))

    def with_moments(self, mean: float | None, sd: float | None) -> Normal:
        return self.model_copy(update=_moments(mean, sd, "mean", "sd"))


class LogNormal(Strict):
    """Log-normal given by its median and log-scale sigma, optionally truncated."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0)
    low: float = 0.0
    high: float = np.inf
    decimals: int | None = None

    def ppf(self, u: np.ndarray) -> np.ndarray:
        mu = np.log(self.median)
        with np.errstate(divide="ignore"):
            a = special.ndtr((np.log(self.low) - mu) / self.sigma) if self.low > 0 else 0.0
        b = special.ndtr((np.log(self.high) - mu) / self.sigma)
        x = np.exp(mu + self.sigma * special.ndtri(a + u * (b - a)))
        x = np.clip(x, self.low, self.high)
        return np.round(x, self.decimals) if self.decimals is not None else x

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        return self.ppf(special.ndtr(z))

    def with_moments(self, mean: float | None, sd: float | None) -> LogNormal:
        return self.model_copy(update=_moments(mean, sd, "median", "sigma"))


class Bernoulli(Strict):
    """0/1 with P(1) = p; the copula variable above its (1 - p) quantile gives 1."""

    dist: Literal["bernoulli"]
    p: float = Field(ge=0, le=1)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return (u > 1.0 - self.p).astype(np.float64)

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        return (z > special.ndtri(1.0 - self.p)).astype(np.float64)

    def with_moments(self, mean: float | None, sd: float | None) -> Bernoulli:
        return self.model_copy(update={"p": mean}) if mean is not None else self


class Poisson(Strict):
    """Counts, Poisson with the given mean, capped at `max`."""

    dist: Literal["poisson"]
    mean: float = Field(gt=0)
    max: int = Field(default=30, gt=0)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        cdf = stats.poisson.cdf(np.arange(self.max), self.mean)
        return np.searchsorted(cdf, u, side="right").astype(np.float64)

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        cuts = special.ndtri(stats.poisson.cdf(np.arange(self.max), self.mean))
        return np.searchsorted(cuts, z, side="right").astype(np.float64)

    def with_moments(self, mean: float | None, sd: float | None) -> Poisson:
        return self.model_copy(update={"mean": mean}) if mean is not None else self


class ZeroInflatedLogNormal(Strict):
    """Zero with probability 1 - p_nonzero, else log-normal (e.g. a concomitant drug dose)."""

    dist: Literal["zero_inflated_lognormal"]
    p_nonzero: float = Field(ge=0, le=1)
    median: float = Field(gt=0)
    sigma: float = Field(gt=0)
    high: float = np.inf
    decimals: int | None = 1

    def ppf(self, u: np.ndarray) -> np.ndarray:
        cut = 1.0 - self.p_nonzero
        inner = np.clip((u - cut) / max(self.p_nonzero, 1e-12), 1e-12, 1 - 1e-12)
        b = special.ndtr((np.log(self.high) - np.log(self.median)) / self.sigma)
        x = np.exp(np.log(self.median) + self.sigma * special.ndtri(inner * b))
        x = np.where(u > cut, np.minimum(x, self.high), 0.0)
        return np.round(x, self.decimals) if self.decimals is not None else x

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        return self.ppf(special.ndtr(z))

    def with_moments(self, mean: float | None, sd: float | None) -> ZeroInflatedLogNormal:
        return self.model_copy(update={"p_nonzero": mean}) if mean is not None else self


Distribution = Annotated[
    Normal | LogNormal | Bernoulli | Poisson | ZeroInflatedLogNormal,
    Field(discriminator="dist"),
]


def _moments(mean: float | None, sd: float | None, loc: str, scale: str) -> dict[str, float]:
    update: dict[str, float] = {}
    if mean is not None:
        update[loc] = mean
    if sd is not None:
        update[scale] = sd
    return update
