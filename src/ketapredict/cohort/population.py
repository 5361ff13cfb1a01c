"""Baseline covariates: a Gaussian copula over declared marginals, then inclusion criteria."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from ketapredict.cohort.distributions import Distribution
from ketapredict.validation import FloatPair, NamePair, Strict

DIAGNOSES = ("mdd", "bipolar", "ptsd")


class Covariate(Strict):
    unit: str
    meaning: str
    distribution: Distribution


class Correlation(Strict):
    """Correlation of two covariates' latent normals (Spearman = 6/pi * asin(r/2))."""

    between: NamePair
    r: float = Field(gt=-1, lt=1)


class PopulationSpec(Strict):
    covariates: dict[str, Covariate]
    correlations: list[Correlation] = []
    diagnosis: dict[str, float] = {"mdd": 1.0}

    @model_validator(mode="after")
    def _check(self) -> PopulationSpec:
        names = set(self.covariates)
        for c in self.correlations:
            unknown = [b for b in c.between if b not in names]
            if unknown:
                raise ValueError(f"correlation names undefined covariate {unknown[0]!r}")
        _check_mix(self.diagnosis, "diagnosis")
        self.correlation_matrix()
        return self

    def correlation_matrix(self) -> np.ndarray:
        names = list(self.covariates)
        index = {name: i for i, name in enumerate(names)}
        R = np.eye(len(names))
        for c in self.correlations:
            i, j = index[c.between[0]], index[c.between[1]]
            R[i, j] = R[j, i] = c.r
        if np.linalg.eigvalsh(R).min() <= 1e-8:
            raise ValueError("correlations do not form a valid (positive definite) matrix")
        return R


class Override(Strict):
    """Shift a covariate's marginal for one trial: mean/sd (normal), median/sigma, p, mean."""

    mean: float | None = None
    sd: float | None = Field(default=None, gt=0)


class Inclusion(Strict):
    age: FloatPair | None = None
    min_failed_trials: int | None = Field(default=None, ge=0)
    min_baseline: float | None = Field(default=None, ge=0)
    max_baseline: float | None = Field(default=None, ge=0)
    medication_free: bool = False
    diagnosis: list[str] | None = None

    @field_validator("diagnosis")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        for d in value or []:
            if d not in DIAGNOSES:
                raise ValueError(f"unknown diagnosis {d!r}; use one of {', '.join(DIAGNOSES)}")
        return value


def _check_mix(mix: dict[str, float], what: str) -> None:
    for key, share in mix.items():
        if key not in DIAGNOSES:
            raise ValueError(f"{what}: unknown diagnosis {key!r}; use one of {DIAGNOSES}")
        if share < 0:
            raise ValueError(f"{what}: share of {key!r} is negative")
    if abs(sum(mix.values()) - 1.0) > 1e-6:
        raise ValueError(f"{what}: shares add up to {sum(mix.values()):.4g}, not 1")


def apply_overrides(
    pop: PopulationSpec, overrides: dict[str, Override], diagnosis: dict[str, float] | None
) -> PopulationSpec:
    """Return the population with one trial's marginal overrides and diagnosis mix applied."""
    covariates = dict(pop.covariates)
    for name, o in overrides.items():
        if name not in covariates:
            raise ValueError(f"override names undefined covariate {name!r}")
        cov = covariates[name]
        dist = cov.distribution.with_moments(o.mean, o.sd)
        covariates[name] = cov.model_copy(update={"distribution": dist})
    update: dict[str, object] = {"covariates": covariates}
    if diagnosis is not None:
        _check_mix(diagnosis, "diagnosis")
        update["diagnosis"] = diagnosis
    return pop.model_copy(update=update)


def draw_covariates(pop: PopulationSpec, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Draw n patients from the copula; no inclusion criteria applied."""
    Z, codes = _draw_latent(pop, n, rng)
    return _derive(_transform(pop, dict(zip(pop.covariates, Z, strict=True)), codes))


def _draw_latent(
    pop: PopulationSpec, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Copula normals (covariates, n: a covariate's values contiguous) and diagnosis codes."""
    L = np.linalg.cholesky(pop.correlation_matrix())
    Z = L @ rng.standard_normal((len(pop.covariates), n))
    shares = np.array(list(pop.diagnosis.values()))
    codes = rng.choice(len(shares), size=n, p=shares / shares.sum())
    return Z, codes


def _transform(pop: PopulationSpec, z: dict[str, np.ndarray], codes: np.ndarray) -> pd.DataFrame:
    """Map each copula column to its covariate's marginal."""
    data = {name: pop.covariates[name].distribution.from_normal(col) for name, col in z.items()}
    frame = pd.DataFrame(data, copy=False)
    frame["diagnosis"] = pd.Categorical.from_codes(codes, categories=list(pop.diagnosis))
    return frame


def _derive(frame: pd.DataFrame) -> pd.DataFrame:
    """Derived covariates and logical constraints between drawn ones."""
    if "episode_months" in frame and "age" in frame:
        frame["episode_months"] = np.minimum(frame["episode_months"], (frame["age"] - 10.0) * 12)
    if "age_at_onset" in frame and "age" in frame:
        latest = np.floor(frame["age"] - frame.get("episode_months", 0.0) / 12.0)
        frame["age_at_onset"] = np.minimum(frame["age_at_onset"], latest)
    if "systolic_bp" in frame and "diastolic_bp" in frame:
        high = (frame["systolic_bp"] >= 140) | (frame["diastolic_bp"] >= 90)
        frame["hypertension"] = high.astype(np.float64)
    if "comorbid_ptsd" in frame:
        is_ptsd = (frame["diagnosis"] == "ptsd").to_numpy()
        frame["comorbid_ptsd"] = np.where(is_ptsd, 1.0, frame["comorbid_ptsd"])
    return frame


# A covariate and an elementwise test of its values; see `inclusion_criteria`.
Criterion = tuple[str, Callable[[np.ndarray], np.ndarray]]


def sample_population(
    pop: PopulationSpec,
    n: int,
    rng: np.random.Generator,
    *,
    criteria: list[Criterion] | None = None,
    max_rounds: int = 50,
) -> pd.DataFrame:
    """Draw until n patients meet every criterion, by rejection in vectorized rounds.

    Only the copula columns inclusion looks at are drawn for candidates, and each is mapped
    to its marginal only for the candidates the earlier criteria kept; the other columns are
    drawn afterwards for the accepted patients from their exact conditional normal. The copula
    normals are held a covariate to a row, so that each covariate's values are contiguous."""
    if criteria is None:
        return draw_covariates(pop, n, rng)
    names = list(pop.covariates)
    inc = [i for i, name in enumerate(names) if name in INCLUSION_COLUMNS]
    rest = [i for i in range(len(names)) if i not in inc]
    R = pop.correlation_matrix()
    L_inc = np.linalg.cholesky(R[np.ix_(inc, inc)])
    shares = np.array(list(pop.diagnosis.values()))
    kept_z, kept_codes = [], []
    have, rate = 0, 1.0  # a first round of about n: all a broad trial needs; a rate for others
    for _ in range(max_rounds):
        want = int((n - have) / max(rate, 0.01) * 1.1) + 16
        Z_inc = L_inc @ rng.standard_normal((len(inc), want))
        codes = rng.choice(len(shares), size=want, p=shares / shares.sum())
        ok = _screen(pop, criteria, [names[i] for i in inc], Z_inc, codes)
        rate = max(len(ok) / want, 1e-3)
        kept_z.append(Z_inc[:, ok])
        kept_codes.append(codes[ok])
        have += len(ok)
        if have >= n:
            Z_inc = np.concatenate(kept_z, axis=1)[:, :n]
            A = R[np.ix_(rest, inc)] @ np.linalg.inv(R[np.ix_(inc, inc)])
            S = R[np.ix_(rest, rest)] - A @ R[np.ix_(inc, rest)]
            Z_rest = A @ Z_inc + np.linalg.cholesky(S) @ rng.standard_normal((len(rest), n))
            z = {names[i]: Z_inc[k] for k, i in enumerate(inc)}
            z.update({names[i]: Z_rest[k] for k, i in enumerate(rest)})
            z = {name: z[name] for name in names}
            return _derive(_transform(pop, z, np.concatenate(kept_codes)[:n]))
    raise ValueError(
        f"inclusion criteria accept too few patients (about {rate:.2%}); relax them or check "
        "the population overrides"
    )


def _screen(
    pop: PopulationSpec,
    criteria: list[Criterion],
    columns: list[str],
    Z: np.ndarray,
    codes: np.ndarray,
) -> np.ndarray:
    """The candidates (copula rows `columns` of Z, diagnosis codes) that meet every criterion,
    in order; a criterion maps only the candidates the ones before it kept."""
    rows = np.arange(len(codes))
    for column, test in criteria:
        if column == "diagnosis":
            rows = rows[test(np.array(list(pop.diagnosis)))[codes[rows]]]
        else:
            values = pop.covariates[column].distribution.from_normal(Z[columns.index(column), rows])
            rows = rows[test(values)]
    return rows


INCLUSION_COLUMNS = {
    "age",
    "n_failed_trials",
    "baseline_madrs",
    "antidepressant",
    "benzodiazepine_mg",
}


def inclusion_criteria(
    inc: Inclusion, baseline_on_scale: Callable[[np.ndarray], np.ndarray]
) -> list[Criterion]:
    """A trial's inclusion criteria, the cheap and selective first (`baseline_on_scale` maps
    the baseline MADRS to the trial's scale)."""
    criteria: list[Criterion] = []
    if inc.diagnosis is not None:
        criteria.append(("diagnosis", lambda x: np.isin(x, inc.diagnosis)))
    if inc.medication_free:
        criteria.append(("antidepressant", lambda x: x == 0))
        criteria.append(("benzodiazepine_mg", lambda x: x == 0))
    if inc.age is not None:
        youngest, oldest = inc.age
        criteria.append(("age", lambda x: (x >= youngest) & (x <= oldest)))
    if inc.min_failed_trials is not None:
        fewest = inc.min_failed_trials
        criteria.append(("n_failed_trials", lambda x: x >= fewest))
    if inc.min_baseline is not None or inc.max_baseline is not None:
        low = -np.inf if inc.min_baseline is None else inc.min_baseline
        high = np.inf if inc.max_baseline is None else inc.max_baseline

        def severity(x: np.ndarray) -> np.ndarray:
            on_scale = baseline_on_scale(x)
            return (on_scale >= low) & (on_scale <= high)

        criteria.append(("baseline_madrs", severity))
    return criteria
