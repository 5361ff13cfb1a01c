"""Scoring input checks: columns matched to the schema, repeated patient ids, and doses no
route allows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from ketapredict.errors import InputValidationError
from ketapredict.score.validate import SeenIds, check_chunk, default_tasks, make_plan, match_columns


def test_a_repeated_id_is_marked_from_its_second_row_on_across_chunks() -> None:
    seen = SeenIds()
    first = seen.check(pa.array(["a", "b", "a", None, "c"]))
    second = seen.check(pa.array(["c", "d", None, "d", "b", "e"]))
    assert first.tolist() == [False, False, True, False, False]
    assert second.tolist() == [True, False, False, True, True, False]
    numbers = SeenIds()
    assert numbers.check(pa.array([7, None, 7, 8])).tolist() == [False, False, True, False]
    assert numbers.check(pa.array([8, 9])).tolist() == [True, False]


def test_a_dose_no_route_allows_is_an_invalid_row_and_a_studied_one_is_not() -> None:
    rows = {
        "patient_id": ["a", "b", "c", "d"],
        "route": ["iv", "IV", "intranasal", "intranasal"],
        "dose": ["0.5", "50", "84", "250"],
    }
    batch = pa.RecordBatch.from_pydict(rows)
    checked = check_chunk(batch, make_plan(["responder"]))
    dose = [p for p in checked.problems if p.column == "dose" and "possible" in p.rule]
    assert [np.flatnonzero(p.mask).tolist() for p in dose] == [[1], [3]]
    assert dose[0].rule == "is not a possible IV dose: more than 5 mg/kg per session"


def test_columns_are_matched_ignoring_case_and_spaces_and_the_rest_are_named() -> None:
    plan = make_plan(["responder"])
    others = [f.name for f in plan.features if f.name != "age"]
    names = [" Patient_ID", "AGE ", "trial", *others]
    columns, unknown = match_columns(names, plan)
    assert columns["patient_id"] == " Patient_ID" and columns["age"] == "AGE "
    assert unknown == ["trial"]
    with pytest.raises(InputValidationError, match="column 'age' appears twice"):
        match_columns([*names, "age"], plan)
    with pytest.raises(InputValidationError, match="separated by ';'"):
        match_columns(["patient_id;age"], plan)


def test_both_tasks_when_the_end_of_course_columns_are_there() -> None:
    assert default_tasks(["patient_id", "age"]) == ("responder",)
    ends = ["patient_id", "PCT_CHANGE_END", "remission_end"]
    assert default_tasks(ends) == ("responder", "relapse")


@pytest.mark.parametrize("text", [False, True])
def test_rising_ids_are_kept_until_a_chunk_does_not_rise(text: bool) -> None:
    """A sorted export's ids are not hashed while they rise; a later chunk that does not rise
    is checked against all of them."""
    seen = SeenIds()

    def ids(*values: int | None) -> pa.Array:
        return pa.array([v if v is None or not text else f"p{v:03d}" for v in values])

    assert seen.check(ids(1, 2, None, 5)).tolist() == [False] * 4
    assert seen.check(ids(6, 9)).tolist() == [False, False] and len(seen.rising) == 2
    assert seen.check(ids(12, 2, 7, 7, 13)).tolist() == [False, True, False, True, False]
    assert not seen.rising and len(seen.hashes) == 8  # 1 2 5 6 9, then 12 7 13
    assert seen.check(ids(14, 15)).tolist() == [False, False]  # hashed from now on
    assert seen.check(ids(15)).tolist() == [True]
