"""A user's cohort becomes the same task tables the generator's does -- labels, IPCW weights,
inputs -- only without the oracle; another rating scale is harmonised to MADRS points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketapredict.config import load_params
from ketapredict.contract import ID
from ketapredict.datasets import relapse_table, responder_table
from ketapredict.features import raw_columns
from ketapredict.intake import export
from ketapredict.intake.build import task_tables
from ketapredict.intake.check import check
from tests.conftest import ROOT

PARAMS = load_params(ROOT / "params.yaml").features


@pytest.fixture(scope="module")
def synthetic(generated, specs) -> dict[str, pd.DataFrame]:
    """The task tables the features stage makes of the generated cohort, truth included."""
    label = PARAMS.responder_label
    g = generated
    return {
        "responder": responder_table(
            g["patients"], g["visits"], g["outcomes"], g["truth"], visit=label.visit,
            threshold=label.threshold, model=specs.model,
        ).frame,
        "relapse": relapse_table(
            g["patients"], g["outcomes"], g["truth"], horizon_days=PARAMS.relapse_horizon_days,
            model=specs.model,
        ).frame,
    }  # fmt: skip


def _imported(tables: dict[str, pd.DataFrame], folder: Path, fmt: str) -> dict[str, pd.DataFrame]:
    export.write(tables, folder, fmt=fmt)
    report = check([folder])
    assert report.ok, [p.line() for p in report.problems[:3]]
    return {task: t.frame for task, t in task_tables(report, PARAMS).items()}


def _same(own: pd.DataFrame, synthetic: pd.DataFrame, task: str) -> None:
    assert len(own) == len(synthetic) > 20
    mine = own.assign(**{ID: own[ID].astype(int)}).set_index(ID).loc[synthetic[ID]]
    np.testing.assert_array_equal(mine["y"].to_numpy(), synthetic["y"].to_numpy())
    np.testing.assert_allclose(mine["weight"].to_numpy(), synthetic["weight"].to_numpy())
    for name in raw_columns(task):
        a, b = mine[name].to_numpy(), synthetic[name].to_numpy()
        if a.dtype.kind in "fiu":
            np.testing.assert_allclose(a.astype(float), b.astype(float), err_msg=name)
        else:
            assert (a.astype(str) == b.astype(str)).all(), name
    assert mine["p_true"].isna().all()  # no oracle
    assert synthetic["p_true"].notna().all()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_three_tables_give_the_generators_task_tables(cohort, synthetic, tmp_path, fmt) -> None:
    own = _imported(cohort, tmp_path, fmt)
    for task in ("responder", "relapse"):
        _same(own[task], synthetic[task], task)


def test_flat_tables_give_the_generators_task_tables(generated, synthetic, tmp_path) -> None:
    flat = {
        "responder": export.flat_responder(synthetic["responder"]),
        "relapse": export.flat_relapse(generated["patients"], generated["outcomes"]),
    }
    own = _imported(flat, tmp_path, "csv")
    for task in ("responder", "relapse"):
        _same(own[task], synthetic[task], task)


def test_another_scale_is_harmonised_to_madrs_points(generated, synthetic, tmp_path) -> None:
    moved = export.three_tables(
        generated["patients"], generated["outcomes"], generated["visits"],
        other_scale="hdrs17", share=0.5, seed=2,
    )  # fmt: skip
    on_hdrs = moved["outcomes"].loc[moved["outcomes"]["scale"] == "hdrs17", ID].unique()
    assert len(on_hdrs) > 20
    own = _imported(moved, tmp_path, "csv")["responder"]
    own = own.assign(**{ID: own[ID].astype(int)}).set_index(ID)
    truth = synthetic["responder"].set_index(ID)
    ids = np.intersect1d(on_hdrs, own.index)
    # an HDRS-17 score is 0.75 x MADRS, rounded: back in MADRS points within 0.5 / 0.75
    gap = (own.loc[ids, "baseline_madrs"] - truth.loc[ids, "baseline_madrs"]).abs()
    assert gap.max() <= 0.5 / 0.75 + 1e-9
    assert gap.max() > 0  # converted, not copied
