"""Walk one trial spec into patients, visits, outcomes and truth; pool several into a cohort."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ketapredict.cohort import frames
from ketapredict.cohort.adverse import simulate_adverse_events
from ketapredict.cohort.assign import assign_arms, blocked_allocation, reference_arms
from ketapredict.cohort.effects import EffectModel, linear_predictor, sigmoid
from ketapredict.cohort.frames import COHORT_TABLES, Cohort
from ketapredict.cohort.missing import draw_dropout, mask_covariates
from ketapredict.cohort.outcomes import (
    end_of_course_hours,
    relapse_times,
    scores_from_ystar,
    simulate_trajectory,
    truncated_ystar,
    visit_hours,
)
from ketapredict.cohort.population import PopulationSpec, inclusion_filter, sample_population
from ketapredict.cohort.specs import Arm, TrialSpec, population_for


@dataclass
class _Trial:
    """What one arm-period needs besides its patients: the spec, model and shared draws."""

    spec: TrialSpec
    model: EffectModel
    rng: np.random.Generator
    dropout_hours: np.ndarray
    horizon_days: float
    blocks: np.ndarray


def generate_trial(
    spec: TrialSpec,
    population: PopulationSpec,
    model: EffectModel,
    n: int,
    rng: np.random.Generator,
    *,
    id_offset: int = 0,
    horizon_days: float = 28.0,
    block_size: int | None = None,
) -> Cohort:
    """Simulate `n` randomized patients of one trial design. With `block_size`, patients
    form consecutive blocks of that size, each randomized exactly as one trial of that size
    (how `replicate` simulates many trials in one vectorized call)."""
    scale = spec.scale_spec()
    accept = inclusion_filter(
        spec.population.inclusion, lambda f: np.round(scale.factor * f["baseline_madrs"].to_numpy())
    )
    cov = sample_population(population_for(spec, population), n, rng, accept=accept)
    blocks = np.arange(n) // (block_size or n)
    arms = assign_arms(spec, blocks, rng)
    latent = rng.standard_normal(n)
    n_periods = arms.shape[1]
    period_hours = 24.0 * spec.washout_days if n_periods > 1 else np.inf
    horizon = 24.0 * (spec.washout_days * (n_periods - 1) + _course_days(spec))
    dropout = draw_dropout(spec.dropout, cov, np.full(n, horizon), rng)
    trial = _Trial(spec, model, rng, dropout, horizon_days, blocks)
    baseline = np.round(scale.factor * cov["baseline_madrs"].to_numpy())
    carry = np.zeros(n)
    visit_parts, outcome_parts = [], []
    for period in range(n_periods):
        for a, arm in enumerate(spec.arms):
            idx = np.flatnonzero(arms[:, period] == a)
            if idx.size == 0:
                continue
            b = np.maximum(np.round(baseline[idx] * (1 - carry[idx])), 1.0)
            limit = period_hours if period < n_periods - 1 else np.inf
            visits, outcome, improvement = _simulate_arm(
                trial, arm, cov.iloc[idx].reset_index(drop=True), idx, b, latent[idx], period, limit
            )
            visit_parts.append(visits)
            outcome_parts.append(outcome)
            if model.drugs[arm.drug].active and n_periods > 1:
                decay = 0.5 ** (spec.washout_days / model.response.carryover_halflife_days)
                carry[idx] = decay * np.clip(improvement, 0, 1)
    outcomes = frames.concat(outcome_parts).sort_values(["patient", "period"], kind="stable")
    visits = frames.concat(visit_parts).sort_values(["patient", "period", "hours"], kind="stable")
    truth = _truth(spec, model, cov, outcomes, horizon_days)
    patients = mask_covariates(spec.missingness, spec.missingness.columns, cov, rng)
    return frames.finish(spec, patients, visits, outcomes, truth, id_offset)


def _course_days(spec: TrialSpec) -> float:
    return max(a.session_hours()[-1] / 24.0 for a in spec.arms) + spec.follow_up_days


def _simulate_arm(
    trial: _Trial,
    arm: Arm,
    cov: pd.DataFrame,
    idx: np.ndarray,
    baseline: np.ndarray,
    latent: np.ndarray,
    period: int,
    limit_hours: float,
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    spec, model, rng = trial.spec, trial.model, trial.rng
    scale = spec.scale_spec()
    hours = visit_hours(spec, arm, limit_hours)
    traj = simulate_trajectory(cov, arm, hours, model, latent, rng)
    end_h = end_of_course_hours(spec, arm)
    e = int(np.searchsorted(hours, end_h))
    j24 = int(np.searchsorted(hours, 24.0))
    score_end, score_24 = scores_from_ystar(traj.ystar[:, [e, j24]], baseline, scale, model).T
    course = pd.DataFrame(
        {
            "response_24h": (traj.ystar[:, j24] > 0).astype(np.float64),
            "remission_24h": (score_24 <= scale.remission_max).astype(np.float64),
            "pct_change_end": (baseline - score_end) / baseline,
            "response_end": (traj.ystar[:, e] > 0).astype(np.float64),
            "remission_end": (score_end <= scale.remission_max).astype(np.float64),
            "n_sessions": float(arm.sessions),
        }
    )
    plan = _maintenance_plan(spec, arm, course, trial.blocks[idx], rng)
    course = pd.concat([course, plan], axis=1)
    start = period * 24.0 * spec.washout_days
    active = model.drugs[arm.drug].active
    follow_days = min(spec.follow_up_days, (limit_hours - end_h) / 24.0)
    cumulative = arm.sessions + course["maintenance_per_month"].to_numpy() * follow_days / 30.4
    ae = simulate_adverse_events(arm, traj.z_dissociation, cumulative, model, rng)
    course["cadss_peak"] = ae["cadss_peak"].to_numpy()
    relapse = _relapse(trial, cov, course, active, idx, start + end_h, follow_days)
    ystar = traj.ystar.copy()
    after = hours > end_h
    responders = course["response_end"].to_numpy() == 1
    if active and after.any() and responders.any():
        days_after = (hours[after] - end_h) / 24.0
        still = (days_after[None, :] < relapse["relapse_time_true"].to_numpy()[:, None])[responders]
        ystar[np.ix_(responders, after)] = truncated_ystar(
            traj.eta[np.ix_(responders, after)], traj.u[np.ix_(responders, after)], still
        )
    scores = scores_from_ystar(ystar, baseline, scale, model)
    observed = start + hours[None, :] <= trial.dropout_hours[idx][:, None]
    visits = frames.long_visits(
        idx, period, arm, spec.scale, hours, baseline, scores, observed, scale
    )
    for col, h in (
        ("response_24h", 24.0),
        ("remission_24h", 24.0),
        ("pct_change_end", end_h),
        ("response_end", end_h),
        ("remission_end", end_h),
    ):
        course.loc[start + h > trial.dropout_hours[idx], col] = np.nan
    outcome = frames.outcome_rows(idx, period, arm, active, baseline, course, relapse, ae, end_h)
    dropout = trial.dropout_hours[idx]
    outcome["dropout_day"] = np.where(np.isfinite(dropout), np.round(dropout / 24.0, 2), np.nan)
    return visits, outcome, course["pct_change_end"].fillna(0).to_numpy()


def _maintenance_plan(
    spec: TrialSpec, arm: Arm, course: pd.DataFrame, blocks: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Continuation after the course: randomized (withdrawal designs) or planned (arm spec)."""
    n = len(course)
    interval = np.full(n, np.inf)
    withdrawal_arm = np.full(n, "", dtype=object)
    if spec.withdrawal is not None and arm.name == spec.arms[0].name:
        eligible = course[f"{spec.withdrawal.eligible}_end"].to_numpy() == 1
        shares = [spec.arm(name).allocation for name in spec.withdrawal.arms]
        pick = blocked_allocation(shares, blocks[eligible], rng)
        chosen = [spec.arm(spec.withdrawal.arms[k]) for k in pick]
        withdrawal_arm[eligible] = [c.name for c in chosen]
        interval[eligible] = [
            c.maintenance.interval_days if c.maintenance and c.drug != "placebo_spray" else np.inf
            for c in chosen
        ]
    elif arm.maintenance is not None:
        planned = rng.random(n) < arm.maintenance.probability
        interval[planned] = arm.maintenance.interval_days
    per_month = np.where(np.isfinite(interval), 30.4 / interval, 0.0)
    return pd.DataFrame(
        {
            "withdrawal_arm": withdrawal_arm,
            "maintenance_per_month": np.round(per_month, 3),
            "on_maintenance": (per_month > 0).astype(np.float64),
        }
    )


def _relapse(
    trial: _Trial,
    cov: pd.DataFrame,
    course: pd.DataFrame,
    active: bool,
    idx: np.ndarray,
    end_abs_hours: float,
    follow_days: float,
) -> pd.DataFrame:
    """Relapse for responders at the end of an active course, censored by follow-up and dropout."""
    n = len(cov)
    out = pd.DataFrame(
        {
            "relapse_time_true": np.full(n, np.inf),
            "relapse_lp": np.nan,
            "relapse_event": np.nan,
            "relapse_days": np.nan,
        }
    )
    at_risk = (course["response_end"].to_numpy() == 1) & active
    if not at_risk.any():
        return out
    frame = pd.concat([cov, course], axis=1)
    t, lp = relapse_times(frame[at_risk].reset_index(drop=True), trial.model, trial.rng)
    spec = trial.spec
    if spec.follow_up_min_days:
        admin = trial.rng.uniform(spec.follow_up_min_days, follow_days, at_risk.sum())
    else:
        admin = np.full(at_risk.sum(), follow_days)
    dropout = (trial.dropout_hours[idx][at_risk] - end_abs_hours) / 24.0
    censor = np.minimum(admin, dropout)
    seen = censor > 0
    out.loc[at_risk, "relapse_time_true"] = t
    out.loc[at_risk, "relapse_lp"] = lp
    out.loc[np.flatnonzero(at_risk)[seen], "relapse_event"] = (t <= censor)[seen].astype(float)
    out.loc[np.flatnonzero(at_risk)[seen], "relapse_days"] = np.round(
        np.minimum(t, censor)[seen], 2
    )
    return out


def _truth(
    spec: TrialSpec,
    model: EffectModel,
    cov: pd.DataFrame,
    outcomes: pd.DataFrame,
    horizon_days: float,
) -> pd.DataFrame:
    """Per patient: true response probabilities under the active arm and the comparator
    (counterfactual for both), at 24 h after the first dose and at the end of the course,
    and the true relapse linear predictor and probability by the horizon."""
    n = len(cov)
    modifier = linear_predictor(model.response.terms, cov)
    ref_active, ref_control = reference_arms(spec, model)
    active_rows = outcomes[outcomes["is_active"]].drop_duplicates("patient")
    own = pd.Series(ref_active, index=range(n), dtype=object)
    own[active_rows["patient"].to_numpy()] = active_rows["arm"].astype(str).to_numpy()
    control = (
        spec.arm(ref_control)
        if ref_control
        else Arm(name="saline", drug="saline", route="iv", dose=0.0)
    )
    eta_active_24 = np.empty(n)
    eta_active_end = np.empty(n)
    for name in own.unique():
        arm, rows = spec.arm(name), (own == name).to_numpy()
        eta_active_24[rows] = _eta(model, arm, 24.0, modifier[rows])
        eta_active_end[rows] = _eta(model, arm, end_of_course_hours(spec, arm), modifier[rows])
    eta_control_24 = _eta(model, control, 24.0, modifier)
    lp = np.full(n, np.nan)
    lp[active_rows["patient"].to_numpy()] = active_rows["relapse_lp"].to_numpy()
    return pd.DataFrame(
        {
            "patient": np.arange(n),
            "active_arm": pd.Categorical(own.to_numpy()),
            "control_arm": frames.category(control.name, n),
            "logodds_active_24h": eta_active_24,
            "logodds_control_24h": eta_control_24,
            "logodds_active_end": eta_active_end,
            "p_response_active_24h": sigmoid(eta_active_24),
            "p_response_control_24h": sigmoid(eta_control_24),
            "p_response_active_end": sigmoid(eta_active_end),
            "relapse_lp": lp,
            "p_relapse_horizon": model.relapse_probability(lp, horizon_days),
            "relapse_horizon_days": horizon_days,
        }
    )


def _eta(model: EffectModel, arm: Arm, hours: float, modifier: np.ndarray) -> np.ndarray:
    weight = model.session_weight(np.array([hours]), np.asarray(arm.session_hours()))[0]
    factor = model.dose_factor(arm.drug, arm.route, arm.dose)
    return model.response_logodds(arm.drug, hours, weight, factor, modifier)


def generate_cohort(
    trials: dict[str, TrialSpec],
    sizes: dict[str, int],
    population: PopulationSpec,
    model: EffectModel,
    *,
    seed: int,
    horizon_days: float,
) -> Cohort:
    """Pool several designs; each draws from its own stream seeded by (seed, trial name),
    so adding a design never changes the patients of another."""
    parts, offset = [], 0
    for name, n in sizes.items():
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        part = generate_trial(
            trials[name], population, model, n, rng, id_offset=offset, horizon_days=horizon_days
        )
        parts.append(part)
        offset += n
    tables = [frames.concat([getattr(p, t) for p in parts]) for t in COHORT_TABLES]
    return Cohort(*tables)
