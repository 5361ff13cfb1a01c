"""Visit schedules, latent trajectories, the score map and relapse times against their model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from ketapredict.cohort.outcomes import (
    end_of_course_hours,
    noise_correlation,
    relapse_times,
    response_threshold,
    scores_from_ystar,
    simulate_trajectory,
    truncated_ystar,
    visit_hours,
    visit_label,
)
from ketapredict.cohort.scales import SCALES
from tests.conftest import simple_trial

SERIAL = {"name": "ketamine", "drug": "ketamine", "route": "iv", "dose": 0.5,
          "sessions": 3, "interval_days": 2}  # fmt: skip


def test_visit_schedule_of_a_single_and_a_serial_course() -> None:
    single = simple_trial()
    assert visit_hours(single, single.arms[0]).tolist() == [2, 24, 72, 168, 336, 672]
    assert end_of_course_hours(single, single.arms[0]) == 24.0
    serial = simple_trial(arms=[SERIAL], visits={"hours": [24], "after_last_hours": [24, 48]})
    arm = serial.arms[0]
    assert end_of_course_hours(serial, arm) == 96 + 24
    assert visit_hours(serial, arm).tolist() == [24, 120, 144]
    assert visit_hours(single, single.arms[0], 100.0).tolist() == [2, 24, 72]


def test_visit_labels() -> None:
    assert [visit_label(h) for h in (0.0, 2 / 3, 2.0, 24.0, 72.0, 168.0)] == [
        "baseline", "40min", "2h", "24h", "72h", "d7",
    ]  # fmt: skip


def test_response_threshold_matches_rounded_scores() -> None:
    for b in range(10, 61):
        c = response_threshold(np.array([float(b)]))[0]
        for pct in (c - 1e-6, c + 1e-6):
            score = round(b * (1 - pct))
            assert (score <= b / 2) == (pct > c), (b, pct)


def test_a_score_is_a_response_exactly_when_the_latent_state_is_positive(specs) -> None:
    rng = np.random.default_rng(1)
    baseline = rng.integers(10, 61, 5000).astype(float)
    ystar = rng.logistic(0, 1.5, (5000, 4))
    scores = scores_from_ystar(ystar, baseline, SCALES["madrs"], specs.model)
    assert ((scores <= baseline[:, None] / 2) == (ystar > 0)).all()
    assert scores.min() >= 0 and scores.max() <= SCALES["madrs"].max_score


def test_response_probability_at_each_visit_is_the_sigmoid_of_eta(specs) -> None:
    hours = np.array([2.0, 24.0, 168.0])
    eta = np.tile([-1.5, 0.0, 1.0], (60_000, 1))
    latent = np.random.default_rng(2).standard_normal(len(eta))
    traj = simulate_trajectory(eta, hours, latent, model=specs.model, rng=np.random.default_rng(3))
    assert (traj.ystar > 0).mean(axis=0) == pytest.approx(special.expit(eta[0]), abs=0.01)
    noise = special.logit(traj.u)
    corr = np.corrcoef(noise.T)
    assert corr[0, 1] > corr[0, 2] > 0, "nearer visits are more alike"
    assert noise_correlation(specs.model, hours).shape == (4, 4)


def test_conditioning_on_the_sign_keeps_the_latent_state_on_that_side(rng) -> None:
    eta = rng.normal(0, 2, 2000)
    u = rng.random(2000)
    positive = rng.random(2000) < 0.5
    y = truncated_ystar(eta, u, positive)
    assert ((y > 0) == positive).all()
    up = truncated_ystar(eta, np.clip(u + 0.01, 0, 1), positive)
    assert (up >= y - 1e-9).all(), "monotone in the copula uniform"


def test_relapse_times_follow_the_weibull_model(specs) -> None:
    r = specs.model.relapse
    for lp in (0.0, np.log(2.0)):
        t = relapse_times(np.full(100_000, lp), specs.model, np.random.default_rng(5))
        expected = r.median_days * np.exp(-lp / r.weibull_shape)
        assert np.median(t) == pytest.approx(expected, rel=0.02)
