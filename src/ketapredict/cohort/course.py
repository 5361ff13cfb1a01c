"""One arm's course in one period: trajectory, response, maintenance, adverse events, relapse,
visit scores and what dropout hides, each its own step, drawing in that order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ketapredict.cohort import exits, frames, truth
from ketapredict.cohort.adverse import simulate_adverse_events
from ketapredict.cohort.assign import assign_maintenance
from ketapredict.cohort.effects import EffectModel
from ketapredict.cohort.outcomes import (
    Trajectory,
    end_of_course_hours,
    relapse_times,
    scores_from_ystar,
    simulate_trajectory,
    truncated_ystar,
    visit_hours,
)
from ketapredict.cohort.specs import Arm, TrialSpec

# Course outcomes and the hours (after the period's first dose, None: end of course) they are
# assessed at; a patient who has dropped out by then has them missing.
_ASSESSED = (
    ("response_24h", 24.0),
    ("remission_24h", 24.0),
    ("pct_change_end", None),
    ("response_end", None),
    ("remission_end", None),
)


@dataclass
class Trial:
    """What every arm-period shares: the spec, the model, the generator and per-patient draws."""

    spec: TrialSpec
    model: EffectModel
    rng: np.random.Generator
    dropout_hours: np.ndarray
    blocks: np.ndarray
    effects: truth.TrialEffects

    @property
    def rating_sd(self) -> float:
        """The SD of one rating's error on the trial's scale."""
        return self.spec.measurement.rater_sd * self.spec.scale_spec().factor

    def is_active(self, arm: Arm) -> bool:
        return self.model.drugs[arm.drug].active


@dataclass(frozen=True)
class Schedule:
    """When one arm-period's events happen (hours after its first dose unless named)."""

    hours: np.ndarray
    end_hours: float
    start_hours: float  # the period's first dose, hours after enrolment
    follow_days: float  # follow-up after the end of course, cut short by the next period


@dataclass(frozen=True)
class ArmPeriod:
    """The patients on one arm in one period: rows of the trial, covariates, period baseline."""

    arm: Arm
    period: int
    idx: np.ndarray
    cov: pd.DataFrame
    baseline: np.ndarray
    latent: np.ndarray
    schedule: Schedule


def schedule(
    spec: TrialSpec, arm: Arm, *, start_hours: float, limit_hours: float = np.inf
) -> Schedule:
    """Visit times and follow-up of one arm-period starting `start_hours` after enrolment; a
    stage followed by another ends `limit_hours` after its start (at the washout or the next
    phase)."""
    end = end_of_course_hours(spec, arm)
    return Schedule(
        hours=visit_hours(spec, arm, limit_hours),
        end_hours=end,
        start_hours=start_hours,
        follow_days=min(spec.follow_up_days, (limit_hours - end) / 24.0),
    )


def simulate_course(
    trial: Trial, group: ArmPeriod
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Visits and outcome rows of one arm-period, and each patient's improvement at the end."""
    traj = _trajectory(trial, group)
    traj, stops = _early_exit(trial, group, traj)
    course, recorded = _response(trial, group, traj, stops)
    plan = assign_maintenance(trial.spec, group.arm, course, trial.blocks[group.idx], trial.rng)
    if stops.exited.any():  # those who stopped the course continue no sessions after it
        plan.loc[stops.exited, ["maintenance_per_month", "on_maintenance"]] = 0.0
    course = pd.concat([course, plan], axis=1)
    ae = _adverse_events(trial, group, traj, course)
    course["cadss_peak"] = ae["cadss_peak"].to_numpy()
    relapse = _relapse(trial, group, course)
    scores = _scores(trial, group, traj, course, relapse, recorded)
    visits = _visits(trial, group, scores)
    course = _censor_at_dropout(trial, group, course, stops)
    outcome = _outcome_rows(trial, group, course, relapse, ae, stops)
    return visits, outcome, course["pct_change_end"].fillna(0).to_numpy()


def _trajectory(trial: Trial, group: ArmPeriod) -> Trajectory:
    """Latent visit states around each patient's true log-odds of response at each visit."""
    patients = truth.Patients.of(trial.model, group.cov, trial.effects.take(group.idx))
    hours = group.schedule.hours
    eta = truth.response_logodds(trial.model, group.arm, hours, patients)
    return simulate_trajectory(
        eta, hours, group.latent, model=trial.model, rng=trial.rng, rating_sd=trial.rating_sd
    )


def _early_exit(trial: Trial, group: ArmPeriod, traj: Trajectory) -> tuple[Trajectory, exits.Stops]:
    """Patients still in the trial whose recorded improvement at the exit visit is below the
    arm's cut-off stop there; after it their log-odds lose the sessions never given."""
    arm, hours = group.arm, group.schedule.hours
    stops = exits.Stops.planned(arm, hours, group.schedule.end_hours, len(group.idx))
    if arm.exit is None:
        return traj, stops
    j = exits.decision_column(arm, hours)
    recorded = scores_from_ystar(
        traj.ystar[:, [j]], group.baseline, trial.spec.scale_spec(), trial.model,
        traj.rating_error[:, [j]], arm.change_spread,
    )[:, 0]  # fmt: skip
    improvement = (group.baseline - recorded) / group.baseline
    present = trial.dropout_hours[group.idx] >= group.schedule.start_hours + hours[j]
    exited = present & (improvement < arm.exit.min_improvement)
    rows = np.flatnonzero(exited)
    if rows.size == 0:
        return traj, stops
    patients = truth.Patients.of(
        trial.model, group.cov.iloc[rows], trial.effects.take(group.idx[rows])
    )
    eta = truth.response_logodds(trial.model, exits.shortened(arm), hours, patients)
    return exits.reexpose(traj, rows, j, eta), stops.with_exits(exited, arm, hours)


def _response(
    trial: Trial, group: ArmPeriod, traj: Trajectory, stops: exits.Stops
) -> tuple[pd.DataFrame, np.ndarray]:
    """Response and remission (on the recorded scores) 24 h after the first dose and at the
    end of the course (for those who stopped early, at their exit visit), and the recorded
    score at every visit."""
    scale = trial.spec.scale_spec()
    hours, baseline = group.schedule.hours, group.baseline
    recorded = scores_from_ystar(
        traj.ystar, baseline, scale, trial.model, traj.rating_error, group.arm.change_spread
    )
    score_end = recorded[np.arange(len(recorded)), stops.end_column]
    score_24 = recorded[:, int(np.searchsorted(hours, 24.0))]
    course = pd.DataFrame(
        {
            "withdrawal_eligible": np.where(stops.exited, 0.0, _eligible(trial, group, recorded)),
            "response_24h": (score_24 <= baseline / 2).astype(np.float64),
            "remission_24h": (score_24 <= scale.remission_max).astype(np.float64),
            "pct_change_end": (baseline - score_end) / baseline,
            "response_end": (score_end <= baseline / 2).astype(np.float64),
            "remission_end": (score_end <= scale.remission_max).astype(np.float64),
            "n_sessions": stops.sessions,
        }
    )
    return course, recorded


def _eligible(trial: Trial, group: ArmPeriod, recorded: np.ndarray) -> np.ndarray:
    """Randomized withdrawal: still in the trial at the end of induction, and responding (or
    remitted) at every visit of its last `stable_days`, up to the end assessment, and at each
    gate visit."""
    rule, hours, end = trial.spec.withdrawal, group.schedule.hours, group.schedule.end_hours
    if rule is None:
        return np.zeros(len(recorded))
    window = (hours <= end) & (hours >= end - 24.0 * rule.stable_days)
    window |= np.isin(hours, rule.gate_hours)
    scores = recorded[:, window]
    if rule.eligible == "response":
        met = scores <= group.baseline[:, None] / 2
    else:
        met = scores <= trial.spec.scale_spec().remission_max
    present = trial.dropout_hours[group.idx] >= group.schedule.start_hours + end
    return (met.all(axis=1) & present).astype(np.float64)


def _adverse_events(
    trial: Trial, group: ArmPeriod, traj: Trajectory, course: pd.DataFrame
) -> pd.DataFrame:
    """Adverse events of the course and of the sessions continued during follow-up."""
    per_month = course["maintenance_per_month"].to_numpy()
    sessions = course["n_sessions"].to_numpy()
    cumulative = sessions + per_month * group.schedule.follow_days / 30.4
    return simulate_adverse_events(
        group.arm, traj.z_dissociation, cumulative, trial.model, trial.rng,
        sessions=sessions if group.arm.exit else None,
    )  # fmt: skip


def _relapse(trial: Trial, group: ArmPeriod, course: pd.DataFrame) -> pd.DataFrame:
    """Relapse for responders at the end of an active course, censored by follow-up and dropout."""
    n = len(group.cov)
    out = {
        "relapse_time_true": np.full(n, np.inf),
        "relapse_lp": np.full(n, np.nan),
        "relapse_event": np.full(n, np.nan),
        "relapse_days": np.full(n, np.nan),
    }
    at_risk = (course["response_end"].to_numpy() == 1) & trial.is_active(group.arm)
    if at_risk.any():
        rows = np.flatnonzero(at_risk)
        used = sorted({name for term in trial.model.relapse.terms for name in term.covariates})
        frame = pd.DataFrame(
            {k: (course[k] if k in course else group.cov[k]).to_numpy()[rows] for k in used}
        )
        lp = truth.relapse_lp(trial.model, frame)
        t = relapse_times(lp, trial.model, trial.rng)
        censor = _relapse_censoring(trial, group, at_risk)
        followed = censor > 0
        out["relapse_time_true"][rows] = t
        out["relapse_lp"][rows] = lp
        out["relapse_event"][rows[followed]] = (t <= censor)[followed]
        # recorded to the hundredth of a day, never 0 (an event at the end assessment itself)
        days = np.maximum(np.round(np.minimum(t, censor)[followed], 2), 0.01)
        out["relapse_days"][rows[followed]] = days
    return pd.DataFrame(out, copy=False)


def _relapse_censoring(trial: Trial, group: ArmPeriod, at_risk: np.ndarray) -> np.ndarray:
    """Days after the end of course at which follow-up (fixed or staggered) or dropout ends."""
    spec, schedule, k = trial.spec, group.schedule, int(at_risk.sum())
    if spec.follow_up_min_days:
        admin = trial.rng.uniform(spec.follow_up_min_days, schedule.follow_days, k)
    else:
        admin = np.full(k, schedule.follow_days)
    end = schedule.start_hours + schedule.end_hours
    return np.minimum(admin, (trial.dropout_hours[group.idx][at_risk] - end) / 24.0)


def _scores(
    trial: Trial,
    group: ArmPeriod,
    traj: Trajectory,
    course: pd.DataFrame,
    relapse: pd.DataFrame,
    recorded: np.ndarray,
) -> np.ndarray:
    """Scores at every visit: the `recorded` ones, except that after an active course a
    responder stays a responder until relapse, and not after (those cells drawn again)."""
    hours, end_h = group.schedule.hours, group.schedule.end_hours
    after = hours > end_h
    responders = course["response_end"].to_numpy() == 1
    if not (trial.is_active(group.arm) and after.any() and responders.any()):
        return recorded
    days_after = (hours[after] - end_h) / 24.0
    still = (days_after[None, :] < relapse["relapse_time_true"].to_numpy()[:, None])[responders]
    cells = np.ix_(responders, after)
    scores = recorded.copy()
    scores[cells] = scores_from_ystar(
        truncated_ystar(traj.eta[cells], traj.u[cells], still), group.baseline[responders],
        trial.spec.scale_spec(), trial.model, traj.rating_error[cells], group.arm.change_spread,
    )  # fmt: skip
    return scores


def _visits(trial: Trial, group: ArmPeriod, scores: np.ndarray) -> pd.DataFrame:
    """The long visit rows, up to each patient's dropout."""
    schedule = group.schedule
    seen_until = trial.dropout_hours[group.idx][:, None]
    observed = schedule.start_hours + schedule.hours[None, :] <= seen_until
    return frames.long_visits(
        group.idx,
        group.period,
        group.arm,
        schedule.hours,
        group.baseline,
        scores,
        observed,
        trial.spec.scale_spec(),
    )


def _censor_at_dropout(
    trial: Trial, group: ArmPeriod, course: pd.DataFrame, stops: exits.Stops
) -> pd.DataFrame:
    """Course outcomes assessed after the patient dropped out are missing."""
    columns = dict(course.items())  # the columns left whole are shared, not copied
    gone = trial.dropout_hours[group.idx]
    for column, hours in _ASSESSED:
        at = stops.end_hours if hours is None else hours
        columns[column] = course[column].mask(group.schedule.start_hours + at > gone)
    return pd.DataFrame(columns, copy=False)


def _outcome_rows(
    trial: Trial,
    group: ArmPeriod,
    course: pd.DataFrame,
    relapse: pd.DataFrame,
    ae: pd.DataFrame,
    stops: exits.Stops,
) -> pd.DataFrame:
    """One outcome row per patient of the arm-period, with the day they dropped out."""
    outcome = frames.outcome_rows(
        group.idx,
        group.period,
        group.arm,
        trial.is_active(group.arm),
        group.baseline,
        course,
        relapse,
        ae,
        stops.end_hours,
    )
    dropout = trial.dropout_hours[group.idx]
    outcome["dropout_day"] = np.where(np.isfinite(dropout), np.round(dropout / 24.0, 2), np.nan)
    return outcome
