"""One arm-period's course: its schedule, and what dropout hides of it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketapredict.cohort.course import ArmPeriod, Trial, schedule, simulate_course
from ketapredict.cohort.generate import generate_trial
from ketapredict.cohort.population import draw_covariates
from ketapredict.cohort.truth import draw_trial_effects
from tests.conftest import simple_trial


def test_a_period_followed_by_another_ends_at_the_washout(specs) -> None:
    spec = specs.trials["zarate2006"]  # crossover, 7-day washout, visits to day 7
    arm = spec.arms[0]
    first = schedule(spec, arm, start_hours=0.0, limit_hours=7 * 24.0)
    second = schedule(spec, arm, start_hours=7 * 24.0)
    assert first.hours.max() < 7 * 24 <= second.hours.max()
    assert first.start_hours == 0 and second.start_hours == 7 * 24
    assert first.end_hours == second.end_hours == 24.0
    assert first.follow_days == 6.0 and second.follow_days == spec.follow_up_days


def _course(specs, dropout_hours: np.ndarray, seed: int = 1):
    spec = simple_trial()  # one session; visits 2 h, 24 h, 72 h, days 7, 14, 28
    n = len(dropout_hours)
    rng = np.random.default_rng(seed)
    cov = draw_covariates(specs.population, n, rng)
    blocks = np.zeros(n, dtype=int)
    effects = draw_trial_effects(specs.model, blocks, rng)
    trial = Trial(spec, specs.model, rng, dropout_hours, blocks, effects)
    group = ArmPeriod(
        arm=spec.arms[0],
        period=0,
        idx=np.arange(n),
        cov=cov,
        baseline=np.full(n, 30.0),
        latent=rng.standard_normal(n),
        schedule=schedule(spec, spec.arms[0], start_hours=0.0),
    )
    return simulate_course(trial, group)


def test_dropout_hides_the_visits_and_outcomes_after_it(specs) -> None:
    dropout = np.repeat([10.0, 30.0, np.inf], 200)
    visits, outcome, improvement = _course(specs, dropout)
    per_patient = visits.groupby("patient")["hours"].max().to_numpy()
    assert (per_patient[:200] == 2).all() and (per_patient[200:400] == 24).all()
    assert (per_patient[400:] == 28 * 24).all()
    assert outcome.loc[:199, ["response_24h", "response_end"]].isna().all().all()
    assert outcome.loc[200:, ["response_24h", "response_end"]].notna().all().all()
    seen = outcome.loc[200:399, "relapse_days"].dropna()
    assert len(seen) > 0 and (seen <= 0.25).all(), "follow-up ends at the dropout"
    assert outcome["dropout_day"].isna().sum() == 200
    assert (improvement[:200] == 0).all()


def test_the_same_draws_give_the_same_course(specs) -> None:
    dropout = np.full(100, np.inf)
    first, second = _course(specs, dropout), _course(specs, dropout)
    for a, b in zip(first[:2], second[:2], strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_withdrawal_needs_a_stable_response_and_a_patient_still_there(specs) -> None:
    spec = specs.trials["sustain1"]
    assert spec.withdrawal.stable_days == 14
    c = generate_trial(spec, specs.population, specs.model, 3000, np.random.default_rng(8))
    o, v = c.outcomes, c.visits
    randomized = o.loc[o["withdrawal_arm"].astype(str) != "", "patient_id"]
    end = o["end_hours"].iloc[0]
    left = o.set_index("patient_id").loc[randomized, "dropout_day"]
    assert (left.isna() | (left * 24 >= end - 12)).all(), "nobody who left is randomized"
    window = v[(v["hours"] >= end - 14 * 24) & (v["hours"] <= end)]
    stable = window.groupby("patient_id")["response"].all()
    assert stable.loc[randomized].all(), "every randomized patient responded throughout"
    assert spec.withdrawal.gate_hours == [672]
    gate = v[v["hours"] == 672].set_index("patient_id")["response"]
    assert gate.loc[randomized].all(), "and at the end of the 4-week induction"
    responders_at_end = o.loc[o["response_end"] == 1, "patient_id"]
    assert len(randomized) < len(responders_at_end), "stability is stricter than the end"
