"""Early exit: who stops a course, where their end assessment is, and what they are not given."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ketapredict.cohort.generate import generate_trial
from ketapredict.errors import SpecError
from tests.conftest import simple_trial

RULE = {"after_session": 2, "min_improvement": 0.25}


def _course(**arm: Any) -> dict[str, Any]:
    return {
        "name": "ketamine", "drug": "ketamine", "route": "iv", "dose": 0.5, "sessions": 6,
        "interval_days": 3.5, "maintenance": {"interval_days": 14}, **arm,
    }  # fmt: skip


def _generate(specs, exit: dict | None, dropout: float = 0.2):
    spec = simple_trial(
        arms=[_course(exit=exit)],
        visits={"hours": [24, 72, 120], "after_last_hours": [24], "follow_up_days": [14, 28]},
        dropout={"rate": dropout},
    )
    return spec, generate_trial(spec, specs.population, specs.model, 4000, np.random.default_rng(4))


@pytest.fixture(scope="module")
def both(specs):
    return _generate(specs, None), _generate(specs, RULE)


def test_exiters_stop_after_the_exit_session_and_are_assessed_there(both) -> None:
    (_, planned), (spec, stopped) = both
    o = stopped.outcomes.set_index("patient_id")
    decision = 120.0  # the last visit between session 2 (84 h) and session 3 (168 h)
    at = stopped.visits[stopped.visits["hours"] == decision].set_index("patient_id")
    improvement = 1 - at["score"] / o.loc[at.index, "baseline_score"]
    exited = o["sessions_given"] == 2
    assert set(o["sessions_given"]) == {2.0, 6.0} and 0.1 < exited.mean() < 0.6
    assert (o["sessions"] == 6).all(), "the planned course, known before it starts"
    assert (improvement[exited.loc[at.index]] < 0.25).all()
    assert (improvement[~exited.loc[at.index]] >= 0.25).all()
    assert (o.loc[exited, "end_hours"] == decision).all()
    assert (o.loc[~exited, "end_hours"] == spec.arms[0].session_hours()[-1] + 24).all()
    np.testing.assert_array_equal(o.loc[at.index[exited.loc[at.index]], "response_end"], 0.0)
    assert (o.loc[exited, ["on_maintenance", "maintenance_per_month"]] == 0).all().all()
    assert o.loc[exited, "relapse_event"].isna().all()
    # who dropped out before the exit visit is not an exiter: they were never assessed there
    gone = o["dropout_day"] * 24 < decision
    assert (o.loc[gone, "sessions_given"] == 6).all() and gone.any()
    assert (planned.outcomes["sessions_given"] == 6).all()


def test_exiters_lose_only_the_sessions_never_given(both) -> None:
    """Same seed, same draws: up to the exit visit every score is as without the rule, and
    everyone else's up to the planned end of the course; at that end the exiters do no
    better, and some worse, without their later sessions. (Afterwards the draws part: fewer
    responders are followed for relapse.)"""
    (_, planned), (spec, stopped) = both
    key = ["patient_id", "hours"]
    a = planned.visits.set_index(key)["score"]
    b = stopped.visits.set_index(key)["score"]
    exiters = stopped.outcomes.loc[stopped.outcomes["sessions_given"] == 2, "patient_id"]
    hours = b.index.get_level_values("hours")
    mine = b.index.get_level_values("patient_id").isin(exiters)
    end = spec.arms[0].session_hours()[-1] + 24
    same = (hours <= 120) | (~mine & (hours <= end))
    assert (a[same] == b[same]).all()
    at_end = mine & (hours == end)
    assert (b[at_end] >= a[at_end]).all() and (b[at_end] > a[at_end]).mean() > 0.3
    # the truth is for the planned course, the same with or without the rule
    assert planned.truth["p_response_active_end"].equals(stopped.truth["p_response_active_end"])


@pytest.mark.parametrize(
    ("exit", "visits", "message"),
    [
        ({"after_session": 6, "min_improvement": 0.2}, None, r"arms\.0: .*needs more than 6"),
        ({"after_session": 1, "min_improvement": 0.6}, None, r"arms\.0\.exit\.min_improvement"),
        (RULE, {"hours": [24]}, r"arms\.0\.exit: no visit between session 2 and the next"),
    ],
)
def test_a_bad_exit_is_a_one_line_error(tmp_path, specs, exit, visits, message) -> None:
    import yaml

    from ketapredict.cohort.specs import load_trial

    data = simple_trial().model_dump(mode="json", exclude_defaults=True)
    data["arms"] = [_course(exit=exit)]
    data["visits"] = visits or {"hours": [24, 72, 120]}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match=message) as info:
        load_trial(path, specs.population, specs.model)
    assert "bad.yaml" in str(info.value) and "\n" not in str(info.value)
