"""The scoring core: bands, ood names, rows not scored, the output's columns, and the trees
run in slices on every core."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from ketapredict.features import build_features
from ketapredict.score.predict import INPUTS, _expand, _ood_names, band, output_schema
from tests.score.helpers import patients


def test_bands_cut_at_one_and_two_thirds() -> None:
    p = np.array([0.0, 1 / 3 - 1e-12, 1 / 3, 0.5, 2 / 3, 1.0])
    assert band(p).to_pylist() == ["low", "low", "intermediate", "intermediate", "high", "high"]


def test_ood_names_list_each_flagged_input_in_schema_order() -> None:
    age, route = INPUTS.index("age"), INPUTS.index("route")
    bits = np.array([0, 1 << age, (1 << age) | (1 << route), 1 << route], dtype=np.uint64)
    names = ["age", "route"] if age < route else ["route", "age"]
    assert _ood_names(bits).to_pylist() == ["", "age", ";".join(names), "route"]


def test_rows_not_scored_are_null() -> None:
    values = pa.array([0.1, 0.2])
    assert _expand(values, None) is values
    assert _expand(values, np.array([False, True, False, True])).to_pylist() == [
        None, 0.1, None, 0.2,
    ]  # fmt: skip


def test_output_columns_per_task_then_flags_then_reasons() -> None:
    schema = output_schema(pa.int64(), ["responder", "relapse"], explain=1)
    assert schema.names[:8] == [
        "patient_id", "p_response", "response_band", "p_relapse", "relapse_band",
        "ood", "ood_inputs", "duplicate_id",
    ]  # fmt: skip
    assert schema.names[8:12] == [
        "response_reason_1", "response_reason_1_input", "response_reason_1_value",
        "response_reason_1_logodds",
    ]  # fmt: skip
    assert schema.names[-2:] == ["relapse_base_logodds", "relapse_other_logodds"]
    assert output_schema(pa.string(), ["relapse"], explain=0).names == [
        "patient_id", "p_relapse", "relapse_band", "ood", "ood_inputs", "duplicate_id",
    ]  # fmt: skip


@pytest.mark.slow
def test_tree_runner_equals_one_lightgbm_call_bit_for_bit(project: Path) -> None:
    from ketapredict.model import load_model
    from ketapredict.score.predict import TreeRunner

    model = load_model(project / "models" / "relapse")
    rows = patients(project, "relapse", n=400)
    rng = np.random.default_rng(7)
    X = build_features(rows.sample(3 * TreeRunner.SLICE_ROWS + 123, replace=True, random_state=1),
                       "relapse")[model.features].to_numpy()  # fmt: skip
    X[rng.random(X.shape) < 0.05] = np.nan
    with TreeRunner() as trees:
        for _ in range(3):  # concurrent slices, repeatedly: no cross-talk between calls
            assert np.array_equal(trees.raw_score(model, X), model.raw_score(X))
            assert np.array_equal(trees.contributions(model, X), model.contributions(X))
