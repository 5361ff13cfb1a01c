"""Adverse events in a large sample occur at the rates the effect model gives them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from ketapredict.cohort.adverse import simulate_adverse_events
from ketapredict.cohort.specs import Arm

N = 100_000
KETAMINE = Arm(name="ketamine", drug="ketamine", route="iv", dose=0.5)


def _simulate(specs, arm: Arm, sessions: float = 1.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(N)
    return simulate_adverse_events(arm, z, np.full(N, sessions), specs.model, rng)


def test_acute_events_at_the_reference_dose_have_the_reference_rate(specs) -> None:
    ae = _simulate(specs, KETAMINE)
    for name, rates in specs.model.adverse.events.items():
        assert ae[f"ae_{name}"].mean() == pytest.approx(rates.active, abs=0.006), name


def test_acute_events_on_control_have_the_control_rate(specs) -> None:
    ae = _simulate(specs, Arm(name="saline", drug="saline", route="iv", dose=0.0), seed=1)
    for name, rates in specs.model.adverse.events.items():
        assert ae[f"ae_{name}"].mean() == pytest.approx(rates.control["saline"], abs=0.005), name
    assert ae["sbp_rise"].mean() == pytest.approx(0.0, abs=0.1)


def test_a_double_dose_and_repeated_sessions_follow_the_dose_slope_and_attenuation(specs) -> None:
    arm = Arm(name="high", drug="ketamine", route="iv", dose=1.0, sessions=4, interval_days=2)
    ae = _simulate(specs, arm, seed=2)
    for name, rates in specs.model.adverse.events.items():
        p = special.expit(special.logit(rates.active) + rates.dose_slope * np.log(2.0))
        expected = 1 - np.prod([1 - p * rates.attenuation**k for k in range(4)])
        assert ae[f"ae_{name}"].mean() == pytest.approx(expected, abs=0.006), name
    assert ae["sbp_rise"].mean() == pytest.approx(
        2 * specs.model.adverse.sbp_rise_reference, abs=0.1
    )


def test_dissociation_is_log_normal_around_the_reference_mean(specs) -> None:
    a = specs.model.adverse
    ae = _simulate(specs, KETAMINE, seed=3)
    assert ae["cadss_peak"].mean() == pytest.approx(a.cadss_reference_mean, rel=0.03)
    flagged = ae["ae_dissociation"] == 1
    assert (flagged == (ae["cadss_peak"] >= a.dissociation_cadss_min)).all()


def test_cumulative_risks_grow_with_sessions_as_a_constant_hazard(specs) -> None:
    ae = _simulate(specs, KETAMINE, sessions=100.0, seed=4)
    for name, rate in specs.model.adverse.cumulative_per_session.items():
        expected = 1 - np.exp(-rate * 100.0)
        assert ae[f"ae_{name}"].mean() == pytest.approx(expected, abs=0.006), name
