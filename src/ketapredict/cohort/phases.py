"""Phases: later stages of a trial on the same patients -- when each starts, who enters it,
the baseline they bring to it, and their course in it.

A phase starts `gap_days` after the latest planned end-of-course assessment of the stage
before it (for a crossover, of its last period); the stage before ends there for everyone.
Its patients are those of the stage before who are still in the trial and meet its entry
rule on their end-of-course response there. Their baseline is their score at its start: the
improvement of their latest active stage, relative to their first baseline, decaying with
`carryover_halflife_days` from that stage's end assessment."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ketapredict.cohort import frames
from ketapredict.cohort.course import ArmPeriod, Trial, schedule, simulate_course
from ketapredict.cohort.design import Phase
from ketapredict.cohort.outcomes import end_of_course_hours
from ketapredict.cohort.specs import Arm, TrialSpec


def period_windows(spec: TrialSpec, n_periods: int) -> list[tuple[float, float]]:
    """(start, length) in hours of each randomized period: a period followed by another ends
    at the washout, the last at the first phase (or never)."""
    washout = 24.0 * spec.washout_days
    windows = [(p * 24.0 * spec.washout_days, washout) for p in range(n_periods)]
    last = windows[-1][0]
    windows[-1] = (last, phase_starts(spec, n_periods)[0] - last if spec.phases else np.inf)
    return windows


def _last_period_arms(spec: TrialSpec) -> list[Arm]:
    if spec.design == "crossover":
        return [spec.arm(s.arms[-1]) for s in spec.sequences]
    return list(spec.arms)


def phase_starts(spec: TrialSpec, n_periods: int) -> list[float]:
    """Hours after enrolment of each phase's first dose."""
    start = (n_periods - 1) * 24.0 * spec.washout_days
    end = start + max(end_of_course_hours(spec, a) for a in _last_period_arms(spec))
    starts = []
    for phase in spec.phases:
        start = end + 24.0 * phase.gap_days
        starts.append(start)
        end = start + end_of_course_hours(spec.phase_view(phase), spec.arm(phase.arm_name))
    return starts


def period_starts(spec: TrialSpec, n_periods: int) -> dict[int, float]:
    """Hours after enrolment of each period's first dose, by period number (1, 2, ...): the
    randomized periods', then the phases'."""
    starts = [start for start, _ in period_windows(spec, n_periods)]
    starts += phase_starts(spec, n_periods) if spec.phases else []
    return {k + 1: start for k, start in enumerate(starts)}


def trial_hours(spec: TrialSpec, n_periods: int) -> float:
    """From enrolment to the end of the last phase's follow-up."""
    last = spec.phases[-1]
    arm = spec.arm(last.arm_name)
    start = phase_starts(spec, n_periods)[-1]
    return start + arm.session_hours()[-1] + 24.0 * last.follow_up_days


def entrants(
    phase: Phase, before: pd.DataFrame, dropout_hours: np.ndarray, start: float
) -> np.ndarray:
    """Patients of the stage before (its outcome rows) who meet the entry rule on their
    recorded end-of-course response and are still in the trial at the phase's start."""
    response = before["response_end"].to_numpy()
    keep = {
        "all": np.ones(len(before), dtype=bool),
        "responders": response == 1,
        "non_responders": response == 0,
    }[phase.enter]
    idx = np.sort(before["patient"].to_numpy()[keep])
    return idx[dropout_hours[idx] >= start]


def phase_baseline(
    idx: np.ndarray, history: pd.DataFrame, starts: dict[int, float], at: float, halflife: float
) -> np.ndarray:
    """Each entrant's score at the phase's start (`at` hours after enrolment): their first
    baseline less the improvement of their latest active stage, halved every `halflife` days
    since that stage's end-of-course assessment."""
    rows = history[history["patient"].isin(idx)].sort_values(["patient", "period"])
    first = rows.drop_duplicates("patient").set_index("patient")["baseline_score"]
    origin = first.loc[idx].to_numpy(dtype=np.float64)
    carry = np.zeros(len(idx))
    active = rows[rows["is_active"].to_numpy()].drop_duplicates("patient", keep="last")
    if len(active):
        pos = np.searchsorted(idx, active["patient"].to_numpy())
        base = active["baseline_score"].to_numpy(dtype=np.float64)
        end_score = base * (1 - active["pct_change_end"].fillna(0).to_numpy())
        ended = active["period"].map(starts).to_numpy() + active["end_hours"].to_numpy()
        decay = 0.5 ** ((at - ended) / 24.0 / halflife)
        carry[pos] = np.clip(1 - end_score / origin[pos], 0, 1) * decay
    return np.maximum(np.round(origin * (1 - carry)), 1.0)


def simulate_phases(
    trial: Trial,
    cov: pd.DataFrame,
    latent: np.ndarray,
    randomized: pd.DataFrame,
    n_periods: int,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Visits and outcome rows of every phase, in order, numbered as periods after the
    randomized part's; `randomized` is that part's outcome rows."""
    spec = trial.spec
    starts = period_starts(spec, n_periods)
    history, before = randomized, randomized[randomized["period"] == n_periods]
    visit_parts, outcome_parts = [], []
    for j, phase in enumerate(spec.phases):
        period = n_periods + j  # counted from 0, as ArmPeriod counts
        start, following = starts[period + 1], starts.get(period + 2, np.inf)
        idx = entrants(phase, before, trial.dropout_hours, start)
        if idx.size == 0:
            break
        view, arm = spec.phase_view(phase), spec.arm(phase.arm_name)
        halflife = trial.model.response.carryover_halflife_days
        baseline = phase_baseline(idx, history, starts, start, halflife)
        group = ArmPeriod(
            arm=arm,
            period=period,
            idx=idx,
            cov=frames.rows(cov, idx),
            baseline=baseline,
            latent=latent[idx],
            schedule=schedule(view, arm, start_hours=start, limit_hours=following - start),
        )
        visits, before, _ = simulate_course(dataclasses.replace(trial, spec=view), group)
        visit_parts.append(visits)
        outcome_parts.append(before)
        history = pd.concat([history, before], ignore_index=True)
    return visit_parts, outcome_parts
