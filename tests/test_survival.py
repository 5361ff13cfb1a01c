"""The Kaplan–Meier curve: hand-worked steps, both continuities, the median, lifelines."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lifelines import KaplanMeierFitter

from ketapredict.survival import kaplan_meier

# At risk / events: t=2 7/1 -> 6/7; t=3 6/1 (the censoring at 3 is still at risk) -> 5/7;
# t=5 4/1 -> 15/28; t=8 2/1 -> 15/56.
TIME = np.array([2, 3, 3, 5, 6, 8, 12], dtype=float)
EVENT = np.array([1, 1, 0, 1, 0, 1, 0], dtype=float)


def test_steps_by_hand() -> None:
    curve = kaplan_meier(TIME, EVENT)
    assert curve.times.tolist() == [2, 3, 5, 8]
    np.testing.assert_allclose(curve.survival, [6 / 7, 5 / 7, 15 / 28, 15 / 56], atol=1e-15)


def test_right_continuous_at_and_left_continuous_before() -> None:
    curve = kaplan_meier(TIME, EVENT)
    assert curve.at(1.0) == 1.0 and curve.at(2.0) == pytest.approx(6 / 7)
    assert curve.at(100.0) == pytest.approx(15 / 56)
    before = curve.before(np.array([1.0, 2.0, 2.5, 3.0, 100.0]))
    np.testing.assert_allclose(before, [1, 1, 6 / 7, 6 / 7, 15 / 56], atol=1e-15)


def test_no_events_is_a_flat_curve_with_no_median() -> None:
    curve = kaplan_meier(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    assert curve.at(5.0) == 1.0 and curve.before(np.array([0.0, 9.0])).tolist() == [1.0, 1.0]
    assert math.isnan(curve.median())


def test_median_is_the_first_time_s_reaches_one_half_even_exactly() -> None:
    assert kaplan_meier(np.arange(1.0, 7.0), np.ones(6)).median() == 3.0
    assert kaplan_meier(TIME, EVENT).median() == 8.0  # S(5) = 15/28 is still above


def test_matches_lifelines_with_many_ties() -> None:
    rng = np.random.default_rng(0)
    time = np.ceil(rng.exponential(10.0, 400))
    event = (rng.random(400) < 0.7).astype(float)
    curve = kaplan_meier(time, event)
    grid = np.arange(0.0, time.max() + 2)
    expected = KaplanMeierFitter().fit(time, event).survival_function_at_times(grid).to_numpy()
    np.testing.assert_allclose([curve.at(t) for t in grid], expected, atol=1e-12)
    np.testing.assert_allclose(curve.before(grid + 1.0), expected, atol=1e-12)
