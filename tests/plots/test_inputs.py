"""Frames without the columns a figure draws raise DataError before anything is drawn."""

from __future__ import annotations

import pandas as pd
import pytest

from ketapredict import plots
from ketapredict.errors import DataError
from ketapredict.plots import inputs
from tests.plots.helpers import importance_table


@pytest.mark.parametrize(
    ("call", "frame"),
    [
        (plots.plot_decision_curve, pd.DataFrame({"threshold": [0.1], "strategy": ["x"]})),
        (plots.plot_subgroups, pd.DataFrame({"group": ["a"], "level": ["b"]})),
        (plots.plot_importance, pd.DataFrame({"importance": [0.1]})),
        (plots.plot_truth_recovery, importance_table().drop(columns="true_importance")),
    ],
)
def test_missing_columns_raise_data_error(call: object, frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="lacks column"):
        call(frame)  # type: ignore[operator]


def test_empty_curves_raise_data_error() -> None:
    with pytest.raises(DataError, match="no curves"):
        plots.plot_roc({})


def test_require_names_the_missing_columns() -> None:
    with pytest.raises(DataError, match=r"what lacks column\(s\) \['b'\]"):
        inputs.require(pd.DataFrame({"a": [1]}), ("a", "b"), "what")
    inputs.require(pd.DataFrame({"a": [1]}), ("a",), "what")
