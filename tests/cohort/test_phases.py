"""Phases chain on the same patients: who enters, the baseline they bring, dropout across them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from ketapredict.cohort import phases
from ketapredict.cohort.generate import generate_trial
from ketapredict.cohort.specs import TrialSpec, load_trial
from ketapredict.errors import SpecError
from tests.conftest import trial_data

COURSE = {"name": "course", "drug": "ketamine", "route": "iv", "dose": 0.5, "sessions": 6}
SECOND_WEEK_EXIT = {"after_session": 2, "min_improvement": 0.2}  # no maintenance visit in week 2


def _phase_data(gap_days: float = 14.0, dropout: float = 0.0, **first: Any) -> dict[str, Any]:
    """Zarate's crossover, then six open-label infusions for all, then weekly maintenance for
    the responders."""
    data = trial_data("zarate2006")
    data["dropout"] = {"rate": dropout}
    data["phases"] = [
        {
            "name": "course",
            "arm": {**COURSE, "interval_days": 2.5},
            "gap_days": gap_days,
            "visits": {"hours": [24, 96], "after_last_hours": [24]},
            **first,
        },
        {
            "name": "maintenance",
            "arm": {**COURSE, "name": "weekly", "sessions": 4, "interval_days": 7},
            "enter": "responders",
            "gap_days": 6,
            "visits": {"hours": [24, 168]},
            "follow_up_days": 14,
        },
    ]
    return data


def _with_phases(**changes: Any) -> TrialSpec:
    return TrialSpec.model_validate(_phase_data(**changes))


def _load(tmp_path: Path, data: dict[str, Any], specs) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    load_trial(path, specs.population, specs.model)


def _generate(specs, spec: TrialSpec, n: int = 3000, seed: int = 2):
    return generate_trial(spec, specs.population, specs.model, n, np.random.default_rng(seed))


@pytest.fixture(scope="module")
def chained(specs):
    return _generate(specs, _with_phases(dropout=0.3))


def test_phases_are_further_periods_of_the_same_patients(specs, chained) -> None:
    o = chained.outcomes
    assert len(chained.patients) == len(chained.truth) == 3000
    arms = o.groupby("period")["arm"].agg(lambda a: set(a.astype(str)))
    assert arms[3] == {"course"} and arms[4] == {"weekly"}
    assert set(o.loc[o["period"] == 4, "patient_id"]) <= set(o.loc[o["period"] == 3, "patient_id"])
    assert set(o["period"]) == set(chained.visits["period"]) == {1, 2, 3, 4}
    # the phases add rows, never patients: the true covariates are those drawn without them
    plain = _generate(specs, TrialSpec.model_validate(trial_data("zarate2006")))
    true = [c for c in chained.truth.columns if c.startswith("true_")]
    pd.testing.assert_frame_equal(chained.truth[true], plain.truth[true])
    # one patient latent: doing well on ketamine in the crossover goes with doing well in the
    # course
    single = o[o["is_active"] & (o["period"] <= 2)].set_index("patient_id")["pct_change_end"]
    course = o[o["period"] == 3].set_index("patient_id")["pct_change_end"]
    assert single.corr(course) > 0.15


def test_a_phase_baseline_is_the_score_its_patients_bring(specs) -> None:
    """A short gap: the course starts from about the last active score; a long one: all of
    it has gone."""
    for gap in (0.5, 60.0):
        spec = _with_phases(gap_days=gap)
        o = _generate(specs, spec, n=600).outcomes.set_index(["patient_id", "period"])
        first = o.xs(1, level="period")["baseline_score"]
        course = o.xs(3, level="period")
        last_active = o[o["is_active"]].reset_index().query("period <= 2").set_index("patient_id")
        end_score = last_active["baseline_score"] * (1 - last_active["pct_change_end"])
        starts = phases.period_starts(spec, 2)
        ended = last_active["period"].map(starts) + last_active["end_hours"]
        elapsed = (starts[3] - ended.loc[course.index]) / 24.0
        carry = (1 - end_score / first).clip(0, 1).loc[course.index]
        expected = np.round(first.loc[course.index] * (1 - carry * 0.5 ** (elapsed / 2.0)))
        np.testing.assert_array_equal(course["baseline_score"], np.maximum(expected, 1))
        gone = course["baseline_score"] == first.loc[course.index]
        assert gone.all() if gap == 60.0 else gone.mean() < 0.8


def test_only_responders_still_in_the_trial_enter_a_responders_phase(specs, chained) -> None:
    o = chained.outcomes
    spec = _with_phases(dropout=0.3)
    start = phases.period_starts(spec, 2)[4]
    course = o[o["period"] == 3].set_index("patient_id")
    entered = set(o.loc[o["period"] == 4, "patient_id"])
    present = course["dropout_day"].isna() | (course["dropout_day"] * 24 >= start)
    eligible = set(course.index[(course["response_end"] == 1) & present])
    assert entered == eligible and len(entered) > 100


def test_dropout_carries_across_the_phases(specs, chained) -> None:
    spec = _with_phases(dropout=0.3)
    starts = phases.period_starts(spec, 2)
    o, v = chained.outcomes, chained.visits
    gone = o.groupby("patient_id")["dropout_day"].first() * 24
    assert gone.notna().mean() == pytest.approx(0.3, abs=0.03)
    assert (gone.dropna() > starts[3]).mean() > 0.3, "dropout spans the phases too"
    seen = v["period"].map(starts) + v["hours"].astype(float)
    after = seen.to_numpy() > gone.reindex(v["patient_id"]).fillna(np.inf).to_numpy() + 0.01
    assert not (after & (v["hours"] > 0).to_numpy()).any(), "no visit after a dropout"
    course = set(o.loc[o["period"] == 3, "patient_id"])
    assert not course & set(gone.index[gone < starts[3]]), "who left before a phase is not in it"
    # follow-up of a stage ends when the next starts
    crossover = v[v["period"] == 2]
    assert (crossover["hours"].astype(float) + starts[2] < starts[3]).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["phases"][0].update(arm="infusions"), r"phases\.0\.arm: undefined arm"),
        (lambda d: d["phases"][0].pop("gap_days"), r"phases\.0\.gap_days: required key"),
        (lambda d: d["phases"][1].update(enter="remitters"), r"phases\.1\.enter"),
        (lambda d: d["phases"][1].update(name="course"), "phase names must be unique"),
        (lambda d: d["phases"][1]["arm"].update(name="course"), "arm names must be unique"),
        (lambda d: d["phases"][1]["visits"].update(hours=[168]), r"must include 24"),
        (lambda d: d["phases"][1].update(gap_days=0), r"phases\.1\.gap_days"),
        (lambda d: d.update(follow_up_min_days=3), r"follow_up_min_days: a design with phases"),
        (
            lambda d: d["phases"][1]["arm"].update(exit=SECOND_WEEK_EXIT),
            r"phases\.1\.arm\.exit: no visit between session 2 and the next",
        ),
    ],
)
def test_a_bad_phase_is_a_one_line_error_naming_the_key(tmp_path, specs, change, message) -> None:
    data = _phase_data()
    change(data)
    with pytest.raises(SpecError, match=message) as info:
        _load(tmp_path, data, specs)
    assert "bad.yaml" in str(info.value) and "\n" not in str(info.value)


def test_a_randomized_withdrawal_cannot_have_phases(tmp_path, specs) -> None:
    data = trial_data("sustain1")
    data["phases"] = _phase_data()["phases"]
    with pytest.raises(SpecError, match=r"phases: a randomized_withdrawal design cannot"):
        _load(tmp_path, data, specs)


def test_the_same_seed_gives_the_same_phases_and_exits(specs) -> None:
    data = _phase_data(dropout=0.2)
    data["phases"][0]["arm"]["exit"] = {"after_session": 1, "min_improvement": 0.25}
    spec = TrialSpec.model_validate(data)
    first, again = _generate(specs, spec, n=400), _generate(specs, spec, n=400)
    for table in ("patients", "visits", "outcomes", "truth"):
        pd.testing.assert_frame_equal(getattr(first, table), getattr(again, table))
    course = first.outcomes[first.outcomes["period"] == 3]
    assert set(course["sessions_given"]) == {1.0, 6.0}, "exits work inside a phase"
