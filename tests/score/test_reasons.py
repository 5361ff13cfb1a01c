"""The reasons' columns and the choice of each row's largest contributions."""

from __future__ import annotations

import numpy as np

from ketapredict.features import SCHEMA
from ketapredict.score.reasons import _largest, reason_columns


def test_the_largest_come_first_one_row_at_a_time() -> None:
    size = np.array([[0.1, 0.5, 0.3, 0.2], [0.9, 0.0, 0.0, 0.4]])
    assert _largest(size.copy(), 3).tolist() == [[1, 2, 3], [0, 3, 1]]


def test_four_columns_a_reason_then_base_and_other() -> None:
    names = reason_columns("relapse", 2)
    assert names[:4] == ["relapse_reason_1", "relapse_reason_1_input", "relapse_reason_1_value",
                         "relapse_reason_1_logodds"]  # fmt: skip
    assert names[-2:] == ["relapse_base_logodds", "relapse_other_logodds"] and len(names) == 10
    assert len(reason_columns("responder", 999)) == 4 * len(SCHEMA["responder"]) + 2
