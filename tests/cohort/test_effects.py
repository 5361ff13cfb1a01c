"""The shared effect model's building blocks: dose, sessions, curves, assignment."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ketapredict.cohort.assign import exact_allocation
from ketapredict.cohort.effects import Curve
from ketapredict.cohort.outcomes import response_threshold


def test_dose_factor_is_one_at_reference_and_saturates(specs) -> None:
    m = specs.model
    assert m.dose_factor("ketamine", "iv", 0.5) == pytest.approx(1.0)
    doses = [0.1, 0.2, 0.5, 1.0, 2.0, 10.0]
    f = [m.dose_factor("ketamine", "iv", d) for d in doses]
    assert all(b > a for a, b in itertools.pairwise(f))
    gains = np.diff(f) / np.diff(doses)
    assert all(b < a for a, b in itertools.pairwise(gains))
    emax = (m.response.ed50 + m.response.reference_dose) / m.response.reference_dose
    assert f[-1] < emax
    assert m.dose_factor("saline", "iv", 0.5) == 0.0
    assert m.dose_factor("ketamine", "oral", 0.5) < m.dose_factor("ketamine", "iv", 0.5)


def test_repeated_sessions_build_and_hold_the_effect(specs) -> None:
    m = specs.model
    one = m.session_weight(np.array([24.0]), np.array([0.0]))[0]
    sessions = np.arange(6) * 24 * 2.0
    six = m.session_weight(np.array([sessions[-1] + 24.0]), sessions)[0]
    assert one == pytest.approx(1.0)
    assert six > one
    late = m.session_weight(np.array([24.0 * 60]), np.array([0.0]))[0]
    assert late < 0.2


def test_curve_interpolates_in_log_time_and_is_flat_outside() -> None:
    c = Curve(hours=[1, 100], values=[0.0, 1.0])
    assert c.at(0.0) == 0.0 and c.at(1000.0) == 1.0
    assert c.at(np.sqrt(2 * 101) - 1) == pytest.approx(0.5, abs=1e-9)


def test_response_threshold_matches_rounded_scores() -> None:
    for b in range(10, 61):
        c = response_threshold(np.array([float(b)]))[0]
        for pct in (c - 1e-6, c + 1e-6):
            score = round(b * (1 - pct))
            assert (score <= b / 2) == (pct > c), (b, pct)


def test_exact_allocation_gives_exact_counts(rng) -> None:
    arms = exact_allocation([2 / 3, 1 / 3], 73, rng)
    assert np.bincount(arms).tolist() == [49, 24]
    assert not np.array_equal(arms, np.sort(arms))
