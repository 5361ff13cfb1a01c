"""Replications: independent blocked trials cut apart correctly, seeded, and summarised."""

from __future__ import annotations

import numpy as np
import pytest

from ketapredict.cohort.specs import Target
from ketapredict.replicate.simulate import World, record, replicate_trial, simulate_trials


@pytest.fixture(scope="module")
def world(specs) -> World:
    return World(specs.population, specs.model, specs.trials)


def test_blocked_simulation_is_cut_into_trials_of_the_published_size(world) -> None:
    trials = simulate_trials(world, "murrough2013", 30, 4, np.random.default_rng(0))
    assert len(trials) == 4
    for i, c in enumerate(trials):
        ids = c.patients["patient_id"].to_numpy()
        assert ids.tolist() == list(range(30 * i, 30 * (i + 1)))
        for table in (c.visits, c.outcomes, c.truth):
            assert set(table["patient_id"]) == set(ids)
        assert c.outcomes["arm"].value_counts().to_dict() == {"ketamine": 20, "midazolam": 10}


def test_replications_are_seeded(world) -> None:
    first = replicate_trial(world, "murrough2013", replications=3, seed=1)
    again = replicate_trial(world, "murrough2013", replications=3, seed=1)
    other = replicate_trial(world, "murrough2013", replications=3, seed=2)
    assert first == again and first != other
    assert len(first) == 3 and set(first[0]) == {
        t.label for t in world.trials["murrough2013"].published
    }


def test_a_record_is_inside_when_the_published_value_is_in_the_interval() -> None:
    target = Target(label="response", statistic="response_rate", value=0.5)
    inside = record("t", target, [0.4, 0.5, 0.6, float("nan")], 0.51, kind="trial", n=30)
    assert inside["inside"] and inside["replications"] == 3
    assert inside["simulated_median"] == 0.5 and inside["population_value"] == 0.51
    outside = record("t", target, [0.1, 0.2], float("nan"), kind="trial", n=30)
    assert not outside["inside"] and outside["population_value"] is None
