"""Checks across rows and columns: repeated patient ids, and doses no route allows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ketapredict.score_validation import SeenIds, check_chunk, make_plan


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
