"""The truth the generator used: true log-odds and probabilities per patient, true effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ketapredict.cohort import frames
from ketapredict.cohort.effects import EffectModel, Term, linear_predictor
from ketapredict.cohort.outcomes import end_of_course_hours, response_threshold
from ketapredict.cohort.specs import Arm, TrialSpec


def response_modifier(model: EffectModel, frame: pd.DataFrame) -> np.ndarray:
    """Each patient's true shift of the drug effect (log-odds), from the response terms."""
    return linear_predictor(model.response.terms, frame)


def relapse_lp(model: EffectModel, frame: pd.DataFrame) -> np.ndarray:
    """Each patient's true relapse linear predictor (log hazard ratio), from the relapse terms."""
    return linear_predictor(model.relapse.terms, frame)


def response_logodds(
    model: EffectModel, arm: Arm, hours: np.ndarray, modifier: np.ndarray
) -> np.ndarray:
    """True log-odds of response (improvement >= 50 %) on `arm` at each visit time, per patient:
    expectancy plus the session-weighted, dose-scaled drug effect. Shape (patients, visits)."""
    weight = model.session_weight(hours, np.asarray(arm.session_hours()))
    dose_factor = model.dose_factor(arm.drug, arm.route, arm.dose)
    curve = model.response.expectancy[model.drugs[arm.drug].expectancy]
    eta = np.empty((len(modifier), len(hours)))
    for j, h in enumerate(hours):
        base = float(curve.at(h))
        eta[:, j] = base + weight[j] * dose_factor * (model.response.drug_effect + modifier)
    return eta


def response_probability(
    logodds: np.ndarray, baseline: np.ndarray, threshold: float, model: EffectModel
) -> np.ndarray:
    """P(improvement >= threshold) from the true log-odds of response (improvement >= 50 %),
    inverting the generator's score map; exact for the rounded scores at threshold 0.5."""
    if threshold == 0.5:
        return special.expit(logodds)
    c = response_threshold(baseline)
    gap = threshold - c
    slope = np.where(gap >= 0, model.response.improve_scale, model.response.worsen_scale)
    return special.expit(logodds - gap / slope)


def relapse_probability(model: EffectModel, lp: np.ndarray, horizon_days: float) -> np.ndarray:
    """P(relapse by horizon) under the Weibull proportional-hazards model."""
    r = model.relapse
    cum = (horizon_days / r.weibull_scale) ** r.weibull_shape * np.exp(lp)
    return -np.expm1(-cum)


def reference_arms(spec: TrialSpec, model: EffectModel) -> tuple[str, str | None]:
    """The design's active arm and its comparator (None: no concurrent control)."""
    active = [a.name for a in spec.arms if model.drugs[a.drug].active]
    if not active:
        raise ValueError(f"trial {spec.name!r} has no active (ketamine or esketamine) arm")
    if spec.design == "randomized_withdrawal":
        return active[0], None
    inactive = (a.name for a in spec.arms if not model.drugs[a.drug].active)
    return active[0], spec.control or next(inactive, None)


def truth_table(
    spec: TrialSpec,
    model: EffectModel,
    covariates: pd.DataFrame,
    outcomes: pd.DataFrame,
    horizon_days: float,
) -> pd.DataFrame:
    """Per patient: true response probabilities under the active arm and the comparator
    (counterfactual for both), at 24 h after the first dose and at the end of the course,
    and the true relapse linear predictor and probability by the horizon."""
    n = len(covariates)
    modifier = response_modifier(model, covariates)
    ref_active, ref_control = reference_arms(spec, model)
    active_rows = outcomes[outcomes["is_active"]].drop_duplicates("patient")
    own = pd.Series(ref_active, index=range(n), dtype=object)
    own[active_rows["patient"].to_numpy()] = active_rows["arm"].astype(str).to_numpy()
    control = spec.arm(ref_control) if ref_control else _NO_CONTROL
    eta_24, eta_end = _active_logodds(spec, model, own, modifier)
    eta_control = _logodds_at(model, control, 24.0, modifier)
    lp = np.full(n, np.nan)
    lp[active_rows["patient"].to_numpy()] = active_rows["relapse_lp"].to_numpy()
    return pd.DataFrame(
        {
            "patient": np.arange(n),
            "active_arm": pd.Categorical(own.to_numpy()),
            "control_arm": frames.category(control.name, n),
            "logodds_active_24h": eta_24,
            "logodds_control_24h": eta_control,
            "logodds_active_end": eta_end,
            "p_response_active_24h": special.expit(eta_24),
            "p_response_control_24h": special.expit(eta_control),
            "p_response_active_end": special.expit(eta_end),
            "relapse_lp": lp,
            "p_relapse_horizon": relapse_probability(model, lp, horizon_days),
            "relapse_horizon_days": horizon_days,
        }
    )


# The comparator of a design without a concurrent control: an IV saline infusion.
_NO_CONTROL = Arm(name="saline", drug="saline", route="iv", dose=0.0)


def _active_logodds(
    spec: TrialSpec, model: EffectModel, own: pd.Series, modifier: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """True log-odds on each patient's own active arm at 24 h and at the end of its course."""
    eta_24, eta_end = np.empty(len(own)), np.empty(len(own))
    for name in own.unique():
        arm, rows = spec.arm(name), (own == name).to_numpy()
        eta_24[rows] = _logodds_at(model, arm, 24.0, modifier[rows])
        eta_end[rows] = _logodds_at(model, arm, end_of_course_hours(spec, arm), modifier[rows])
    return eta_24, eta_end


def _logodds_at(model: EffectModel, arm: Arm, hours: float, modifier: np.ndarray) -> np.ndarray:
    return response_logodds(model, arm, np.array([hours]), modifier)[:, 0]


RESPONSE_SCALE = "log-odds of response at 24 h after one IV 0.5 mg/kg ketamine session"
RELAPSE_SCALE = "log hazard ratio of relapse after response (Weibull proportional hazards)"


def _term_rows(terms: list[Term], outcome: str, scale: str) -> list[dict[str, object]]:
    return [
        {
            "outcome": outcome,
            "kind": "interaction" if len(t.covariates) > 1 else "characteristic",
            "characteristic": "+".join(t.covariates),
            "term": t.label,
            "transform": t.transform,
            "center": t.knot if t.transform == "hinge" else t.center,
            "size": t.coef,
            "unit": t.unit,
            "scale": scale,
        }
        for t in terms
    ]


def _row(
    outcome: str, kind: str, name: str, size: float, unit: str, scale: str
) -> dict[str, object]:
    return {
        "outcome": outcome,
        "kind": kind,
        "characteristic": name,
        "term": name,
        "transform": "",
        "center": 0.0,
        "size": float(size),
        "unit": unit,
        "scale": scale,
    }


def effects_table(model: EffectModel) -> pd.DataFrame:
    """One row per true effect (characteristic, outcome, size on the model's scale)."""
    r = model.response
    rows = _term_rows(r.terms, "response", RESPONSE_SCALE)
    rows.append(
        _row("response", "treatment", "drug_effect", r.drug_effect, "log-odds", RESPONSE_SCALE)
    )
    rows.append(_row("response", "treatment", "ed50", r.ed50, "mg/kg IV-equivalent", "Emax dose"))
    for name, curve in r.expectancy.items():
        rows.append(
            _row(
                "response",
                "expectancy",
                name,
                float(curve.at(24.0)),
                "log-odds at 24 h",
                "expectancy",
            )
        )
    for name, route in model.routes.items():
        rows.append(
            _row(
                "response",
                "treatment",
                f"route:{name}",
                route.bioavailability,
                "fraction",
                "bioavailability",
            )
        )
    for name, drug in model.drugs.items():
        if drug.active:
            rows.append(
                _row("response", "treatment", f"drug:{name}", drug.potency, "x racemic", "potency")
            )
    rows += _term_rows(model.relapse.terms, "relapse", RELAPSE_SCALE)
    rel = model.relapse
    rows.append(_row("relapse", "baseline", "weibull_shape", rel.weibull_shape, "", "Weibull"))
    rows.append(_row("relapse", "baseline", "median_days", rel.median_days, "days", "Weibull"))
    a = model.adverse
    for name, rates in a.events.items():
        rows.append(
            _row(f"ae_{name}", "treatment", "active", rates.active, "per session", "probability")
        )
    for name, rate in a.cumulative_per_session.items():
        rows.append(_row(f"ae_{name}", "treatment", "per_session", rate, "per session", "hazard"))
    return pd.DataFrame(rows)
