"""The one shared model of ketamine: expectancy, drug effect, modifiers, relapse hazard, AEs.

Every design is generated through these functions and parameters; no trial carries its own
effect size. Response at a visit is y* > 0 with y* = eta + logistic noise, so the true
response probability is exactly sigmoid(eta) -- the truth the generator writes down.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from ketapredict.validation import NamePair, Strict

DRUGS = ("ketamine", "esketamine", "saline", "midazolam", "placebo_spray")
ROUTES = ("iv", "im", "intranasal", "oral")
REFERENCE_WEIGHT_KG = 80.0


class Curve(Strict):
    """A function of hours since the first dose, linear in log(1 + hours) between knots."""

    hours: list[float] = Field(min_length=1)
    values: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Curve:
        if len(self.hours) != len(self.values):
            raise ValueError("hours and values must have the same length")
        if any(b <= a for a, b in zip(self.hours, self.hours[1:], strict=False)):
            raise ValueError("hours must be strictly increasing")
        return self

    def at(self, hours: np.ndarray | float) -> np.ndarray:
        return np.interp(np.log1p(hours), np.log1p(self.hours), self.values)


class Term(Strict):
    """One additive term: coef x transform(covariate) x profile(hours), with its evidence.

    Shapes: linear (centred, optionally capped: saturation), hinge (per unit above a knot),
    step (1 above a knot), log (log(1 + x), centred), equals (a category). `time` scales the
    term by hours since the course's first dose (absent: constant). A predictive term with
    `dosing: per_kg` acts only when the dose is weight-based (mg/kg), e.g. a BMI effect that
    would be an artefact of dosing by total body weight."""

    covariate: str | NamePair
    coef: float
    transform: Literal["linear", "hinge", "step", "log", "equals"] = "linear"
    center: float = 0.0
    knot: float | None = None
    cap: float | None = None
    value: str | None = None
    time: Curve | None = None
    dosing: Literal["any", "per_kg"] = "any"
    unit: str = ""
    source: str = Field(min_length=1, description="citation, or 'assumption: ...'")

    @model_validator(mode="after")
    def _check(self) -> Term:
        if self.transform in ("hinge", "step") and self.knot is None:
            raise ValueError(f"a {self.transform} term needs a knot")
        if self.transform == "equals" and self.value is None:
            raise ValueError("an equals term needs a value")
        return self

    @property
    def covariates(self) -> tuple[str, ...]:
        return (self.covariate,) if isinstance(self.covariate, str) else self.covariate

    @property
    def label(self) -> str:
        if self.transform == "hinge":
            return f"{self.covariate} above {self.knot:g}"
        if self.transform == "step":
            return f"{self.covariate} > {self.knot:g}"
        if self.transform == "equals":
            return f"{self.covariate} = {self.value}"
        if isinstance(self.covariate, tuple):
            return " x ".join(self.covariate)
        return self.covariate

    @property
    def assumption(self) -> bool:
        return self.source.lower().startswith("assumption")

    def basis(self, frame: pd.DataFrame) -> np.ndarray:
        if self.transform == "equals":
            return (frame[self.covariate] == self.value).to_numpy(dtype=np.float64)
        x = np.ones(len(frame))
        for name in self.covariates:
            x = x * frame[name].to_numpy(dtype=np.float64)
        if self.cap is not None:
            x = np.minimum(x, self.cap)
        if self.transform == "hinge":
            return np.maximum(x - self.knot, 0.0)
        if self.transform == "step":
            return (x > self.knot).astype(np.float64)
        if self.transform == "log":
            return np.log1p(x) - np.log1p(self.center)
        return x - self.center

    def profile(self, hours: np.ndarray) -> np.ndarray:
        """The term's weight at each time (hours since the course's first dose)."""
        hours = np.asarray(hours, dtype=np.float64)
        return np.ones_like(hours) if self.time is None else self.time.at(hours)


def linear_predictor(terms: list[Term], frame: pd.DataFrame) -> np.ndarray:
    """Sum of time-constant terms (the relapse hazard's linear predictor)."""
    lp = np.zeros(len(frame))
    for term in terms:
        lp += term.coef * term.basis(frame)
    return lp


class TermBasis:
    """Terms evaluated once on patients' true covariates; `at` gives their sum at any times."""

    def __init__(self, terms: list[Term], frame: pd.DataFrame) -> None:
        self.terms = terms
        self.basis = np.column_stack([t.basis(frame) for t in terms] or [np.zeros(len(frame))])

    def at(self, hours: np.ndarray, *, per_kg: bool = True) -> np.ndarray:
        """Sum of the terms at each time, (patients, times); per_kg False drops the terms that
        act only under weight-based dosing."""
        hours = np.atleast_1d(np.asarray(hours, dtype=np.float64))
        if not self.terms:
            return np.zeros((len(self.basis), len(hours)))
        weights = np.array(
            [t.coef * t.profile(hours) * (per_kg or t.dosing == "any") for t in self.terms]
        )
        return self.basis @ weights


class Drug(Strict):
    active: bool
    potency: float = Field(default=1.0, gt=0)
    expectancy: str


class Route(Strict):
    bioavailability: float = Field(gt=0, le=1)
    dose_unit: Literal["mg/kg", "mg"]


class Heterogeneity(Strict):
    """Between-trial SDs (log-odds): each trial draws its own shift of the non-specific
    component and of the drug effect, shared by all its patients."""

    expectancy_sd: float = Field(ge=0)
    drug_sd: float = Field(ge=0)
    source: str = Field(min_length=1)


BACKGROUNDS = ("none", "continued", "new")


class ResponseModel(Strict):
    expectancy: dict[str, Curve]
    background: dict[str, Curve]
    natural_course: Curve
    heterogeneity: Heterogeneity
    drug_effect: float
    time_weight: Curve
    ed50: float = Field(gt=0)
    reference_dose: float = Field(gt=0)
    repeat_gain: float = Field(ge=0)
    repeat_sessions: float = Field(gt=0)
    carryover_halflife_days: float = Field(gt=0)
    prognostic: list[Term]
    predictive: list[Term]
    improve_scale: float = Field(gt=0)
    worsen_scale: float = Field(gt=0)
    visit_correlation: float = Field(ge=0, lt=1)
    correlation_hours: float = Field(gt=0)
    patient_correlation: float = Field(ge=0, lt=1)
    dissociation_correlation: float = Field(gt=-1, lt=1)


class RelapseModel(Strict):
    weibull_shape: float = Field(gt=0)
    median_days: float = Field(gt=0)
    terms: list[Term]

    @property
    def weibull_scale(self) -> float:
        return self.median_days / np.log(2.0) ** (1.0 / self.weibull_shape)


class EventRates(Strict):
    """Per-session probability at the reference dose (active) or by control drug."""

    active: float = Field(ge=0, le=1)
    control: dict[str, float]
    dose_slope: float = 1.0
    attenuation: float = Field(default=1.0, gt=0, le=1)


class AdverseModel(Strict):
    cadss_reference_mean: float = Field(gt=0)
    cadss_control_mean: dict[str, float]
    cadss_sigma: float = Field(gt=0)
    dissociation_cadss_min: float = Field(ge=0)
    events: dict[str, EventRates]
    sbp_rise_reference: float
    dbp_rise_reference: float
    bp_rise_sd: float = Field(gt=0)
    cumulative_per_session: dict[str, float]


class EffectModel(Strict):
    drugs: dict[str, Drug]
    routes: dict[str, Route]
    response: ResponseModel
    relapse: RelapseModel
    adverse: AdverseModel

    @model_validator(mode="after")
    def _check(self) -> EffectModel:
        if set(self.response.background) != set(BACKGROUNDS):
            raise ValueError(f"response.background: needs curves for {', '.join(BACKGROUNDS)}")
        for name, drug in self.drugs.items():
            if name not in DRUGS:
                raise ValueError(f"drugs: unknown drug {name!r}; use one of {', '.join(DRUGS)}")
            if drug.expectancy not in self.response.expectancy:
                raise ValueError(f"drugs.{name}: undefined expectancy curve {drug.expectancy!r}")
        for name in self.routes:
            if name not in ROUTES:
                raise ValueError(f"routes: unknown route {name!r}; use one of {', '.join(ROUTES)}")
        return self

    def dose_equivalent(self, drug: str, route: str, dose: float) -> float:
        """Dose as mg/kg of IV racemic ketamine (fixed mg doses at 80 kg)."""
        r = self.routes[route]
        per_kg = dose / REFERENCE_WEIGHT_KG if r.dose_unit == "mg" else dose
        return per_kg * r.bioavailability * self.drugs[drug].potency

    def per_kg(self, route: str) -> bool:
        """Whether a route's dose is weight-based (mg/kg)."""
        return self.routes[route].dose_unit == "mg/kg"

    def dose_factor(self, drug: str, route: str, dose: float) -> float:
        """Saturating (Emax) drug effect relative to the reference dose; 0 for inactive drugs."""
        if not self.drugs[drug].active:
            return 0.0
        d, m = self.dose_equivalent(drug, route, dose), self.response
        return d * (m.ed50 + m.reference_dose) / (m.reference_dose * (m.ed50 + d))

    def session_weight(self, hours: np.ndarray, session_hours: np.ndarray) -> np.ndarray:
        """Active-effect weight at each time: best of the sessions given so far, growing with k."""
        m = self.response
        weight = np.zeros_like(np.asarray(hours, dtype=np.float64))
        for k, start in enumerate(session_hours):
            gain = 1.0 + m.repeat_gain * (1.0 - np.exp(-k / m.repeat_sessions))
            since = hours - start
            w = np.where(since >= 0, m.time_weight.at(np.maximum(since, 0.0)) * gain, 0.0)
            weight = np.maximum(weight, w)
        return weight
