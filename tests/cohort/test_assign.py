"""Treatment assignment: exact allocation, within blocks, by design, and after induction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketapredict.cohort.assign import (
    assign_arms,
    assign_maintenance,
    blocked_allocation,
    exact_allocation,
)
from tests.conftest import simple_trial


def test_exact_allocation_gives_exact_counts(rng) -> None:
    arms = exact_allocation([2 / 3, 1 / 3], 73, rng)
    assert np.bincount(arms).tolist() == [49, 24]
    assert not np.array_equal(arms, np.sort(arms))


def test_blocked_allocation_balances_the_arms_within_every_block(rng) -> None:
    blocks = np.repeat(np.arange(40), 9)  # 40 trials of 9 patients, 2:1
    arms = blocked_allocation([2 / 3, 1 / 3], blocks, rng)
    per_block = pd.crosstab(blocks, arms)
    assert (per_block[0] == 6).all() and (per_block[1] == 3).all()
    first = [tuple(arms[blocks == b]) for b in range(40)]
    assert len(set(first)) > 10, "each block is shuffled on its own"


def test_parallel_design_assigns_one_arm_per_patient_in_the_spec_shares(specs, rng) -> None:
    spec = specs.trials["murrough2013"]  # ketamine 2 : midazolam 1
    arms = assign_arms(spec, np.zeros(300, dtype=int), rng)
    assert arms.shape == (300, 1)
    assert np.bincount(arms[:, 0]).tolist() == [200, 100]


def test_crossover_gives_each_patient_every_arm_once_in_a_balanced_sequence(specs, rng) -> None:
    spec = specs.trials["zarate2006"]
    arms = assign_arms(spec, np.zeros(200, dtype=int), rng)
    assert arms.shape == (200, len(spec.sequences[0].arms))
    assert all(sorted(row) == list(range(len(spec.arms))) for row in arms.tolist())
    firsts = np.bincount(arms[:, 0], minlength=len(spec.arms))
    assert firsts.tolist() == [100, 100]


def test_open_label_puts_everyone_on_the_one_arm(rng) -> None:
    arms = assign_arms(simple_trial(), np.zeros(50, dtype=int), rng)
    assert (arms == 0).all()


def _course(eligible: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"withdrawal_eligible": eligible, "remission_end": 0.0})


def test_withdrawal_randomizes_only_eligible_responders_within_blocks(specs, rng) -> None:
    spec = specs.trials["sustain1"]  # continue : placebo spray, 1 : 1
    induction = spec.arms[0]
    blocks = np.repeat(np.arange(20), 10)
    response = (np.arange(200) % 10 < 6).astype(float)  # 6 responders per block
    plan = assign_maintenance(spec, induction, _course(response.tolist()), blocks, rng)
    chosen = plan["withdrawal_arm"].to_numpy()
    assert (chosen[response == 0] == "").all()
    assert (chosen[response == 1] != "").all()
    for b in range(20):
        got = pd.Series(chosen[(blocks == b) & (response == 1)]).value_counts()
        assert got.to_dict() == {"continue": 3, "placebo": 3}
    spray = [spec.arm(name).drug == "placebo_spray" for name in chosen[response == 1]]
    on = plan["on_maintenance"].to_numpy()[response == 1]
    assert (on == ~np.array(spray)).all(), "placebo spray is not maintenance"


def test_planned_maintenance_follows_the_arm_probability() -> None:
    spec = simple_trial(
        arms=[{"name": "ketamine", "drug": "ketamine", "route": "iv", "dose": 0.5,
               "maintenance": {"interval_days": 14, "probability": 0.3}}],
    )  # fmt: skip
    n = 20_000
    plan = assign_maintenance(
        spec, spec.arms[0], _course([1.0] * n), np.zeros(n), np.random.default_rng(4)
    )
    assert plan["on_maintenance"].mean() == pytest.approx(0.3, abs=0.01)
    assert set(plan["maintenance_per_month"]) == {0.0, round(30.4 / 14, 3)}
