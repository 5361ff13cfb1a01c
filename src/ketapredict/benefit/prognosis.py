"""What drives response without ketamine: a LightGBM response model of every randomized row
(the arm an input), read off with each patient on the comparator. Its SHAP importances are
the prognostic side of the prognostic-or-predictive labels (benefit.roles)."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from ketapredict.benefit.learners import BenefitData
from ketapredict.benefit.roles import importance_by_input
from ketapredict.features import Feature

PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 40,
    "verbosity": -1,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
}
TREES = 200


def comparator_importance(
    data: BenefitData,
    y: np.ndarray,
    X_people: np.ndarray,
    columns: list[str],
    inputs: list[Feature],
    *,
    seed: int,
    leave_out: np.ndarray | None = None,
) -> pd.Series:
    """Mean |SHAP| per characteristic of the response model's log-odds, fitted on the rows of
    `data` with response `y`, for the patients (`X_people`, benefit input columns) on the
    comparator, without the `leave_out` columns."""
    X_rows = np.column_stack([data.X, data.treated.astype(float)])
    data = lgb.Dataset(X_rows, np.asarray(y, dtype=float), free_raw_data=True)
    booster = lgb.train({**PARAMS, "seed": seed}, data, num_boost_round=TREES)
    on_comparator = np.column_stack([X_people, np.zeros(len(X_people))])
    contributions = booster.predict(on_comparator, pred_contrib=True, num_threads=1)
    contributions = contributions[:, : len(columns)]
    if leave_out is not None:  # columns whose effect cannot be told from the designs'
        contributions[:, leave_out] = 0.0
    return importance_by_input(contributions, columns, inputs)
