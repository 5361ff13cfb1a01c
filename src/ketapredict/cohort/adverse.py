"""Adverse events: acute ones per course (dissociation, BP rise, dizziness, nausea, headache)
and risks that grow with cumulative sessions (tolerance, cognition, urinary, dependence)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from ketapredict.cohort.effects import EffectModel
from ketapredict.cohort.specs import Arm

CADSS_MAX = 92


def simulate_adverse_events(
    arm: Arm,
    z_dissociation: np.ndarray,
    cumulative_sessions: np.ndarray,
    model: EffectModel,
    rng: np.random.Generator,
    *,
    sessions: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per patient of one arm-period; z_dissociation is the copula draw it shares
    with the visit noise, which makes more dissociation go with more improvement. `sessions`:
    each patient's sessions given, where a course can stop early (else the arm's)."""
    a = model.adverse
    n = len(z_dissociation)
    active = model.drugs[arm.drug].active
    ratio = model.dose_equivalent(arm.drug, arm.route, arm.dose) / model.response.reference_dose
    mean = a.cadss_reference_mean * ratio if active else a.cadss_control_mean.get(arm.drug, 1.0)
    sigma = a.cadss_sigma
    cadss = np.clip(np.round(mean * np.exp(sigma * z_dissociation - sigma**2 / 2)), 0, CADSS_MAX)
    out: dict[str, np.ndarray] = {
        "cadss_peak": cadss,
        "ae_dissociation": (cadss >= a.dissociation_cadss_min).astype(np.float64),
    }
    for name, rates in a.events.items():
        if active:
            logit = special.logit(rates.active) + rates.dose_slope * np.log(max(ratio, 1e-6))
            p = float(special.expit(logit))
        else:
            p = rates.control.get(arm.drug, 0.0)
        p_none = _none_in(p, rates.attenuation, arm.sessions, sessions)
        out[f"ae_{name}"] = (rng.random(n) < 1 - p_none).astype(np.float64)
    bp_scale = ratio if active else 0.0
    out["sbp_rise"] = np.round(
        a.sbp_rise_reference * bp_scale + a.bp_rise_sd * rng.standard_normal(n), 1
    )
    out["dbp_rise"] = np.round(
        a.dbp_rise_reference * bp_scale + a.bp_rise_sd * rng.standard_normal(n), 1
    )
    for name, rate in a.cumulative_per_session.items():
        exposure = cumulative_sessions * (ratio if active else 0.0)
        out[f"ae_{name}"] = (rng.random(n) < -np.expm1(-rate * exposure)).astype(np.float64)
    return pd.DataFrame(out)


def _none_in(
    p: float, attenuation: float, planned: int, sessions: np.ndarray | None
) -> float | np.ndarray:
    """P(no event in any session), per-session probability p attenuating with each session:
    for the planned course, or per patient for the sessions each was given."""

    def none(count: int) -> float:
        return float(np.prod([1 - p * attenuation**k for k in range(count)]))

    if sessions is None:
        return none(planned)
    counts = np.unique(sessions)
    table = np.array([none(int(c)) for c in counts])
    return table[np.searchsorted(counts, sessions)]
