"""The benefit task table: every randomized contrast at 24 h, one row per patient and period.

A period enters when its design randomized patients to both the active arm and the
comparator in it: parallel trials give one row per patient, two-period crossovers two (one
per arm, `period` and `after_active` recorded so that a learner can adjust for period and
carry-over). Designs without a concurrent comparator (open-label, randomized withdrawal,
registry) give no row. The label is the recorded response at 24 h with the responder label's
threshold; the truth is each patient's true probability of that response on ketamine and on
the design's comparator, and their difference, the true benefit. Benefit is always against
the comparator the patient's design used (`comparator`: saline or midazolam).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ketapredict.cohort.effects import EffectModel
from ketapredict.contract import ID, SUBGROUPS
from ketapredict.datasets import RESPONSE_TRUTH, TaskTable, reached, subgroups, true_response
from ketapredict.features import BENEFIT_INPUTS, columns_of, matrix_of

if TYPE_CHECKING:
    from ketapredict.benefit.learners import BenefitData

# What a benefit model reads (features.BENEFIT_INPUTS): the patient's baseline
# characteristics, the comparator, and the period's place in a crossover.
INPUTS = BENEFIT_INPUTS
TRUTH = ("p_true_treated", "p_true_control", "benefit_true")


def benefit_table(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    outcomes: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    threshold: float,
    model: EffectModel,
) -> TaskTable:
    """Rows of the randomized periods (see the module docstring), with the label `y`, the arm
    (`treated`), the truth columns TRUTH and the subgroups."""
    rows = _randomized_rows(outcomes, truth)
    rows = rows.merge(patients.drop(columns=["trial"]), on=ID, how="left")
    at_24h = visits[visits["visit"] == "24h"][[ID, "period", "score"]]
    rows = rows.merge(at_24h, on=[ID, "period"], how="left")
    base = rows["baseline_score"].to_numpy(dtype=float)
    improvement = (base - rows["score"].to_numpy(dtype=float)) / base
    rows = rows.assign(y=reached(improvement, threshold), **_truth(rows, truth, threshold, model))
    unknown = rows["y"].isna()
    counts = {
        "randomized_rows": len(rows),
        "patients": int(rows[ID].nunique()),
        "excluded_unknown_label": int(unknown.sum()),
    }
    rows = subgroups(rows[~unknown].reset_index(drop=True))
    keep = [ID, "trial", "period", "treated", *(f.name for f in INPUTS), "y", *TRUTH]
    frame = rows[[*keep, *SUBGROUPS[:2]]].copy()
    frame["y"] = frame["y"].astype(np.int8)
    for column in ("trial", "diagnosis", "comparator"):
        frame[column] = frame[column].astype(str)
    counts.update(
        rows=len(frame),
        events=int(frame["y"].sum()),
        treated_rows=int(frame["treated"].sum()),
    )
    return TaskTable(frame, counts)


def no_benefit_table(reason: str) -> TaskTable:
    """The benefit task's table when a cohort cannot make one (no rows; `reason` in counts):
    its learners are judged against the generator's truth, which a user's cohort lacks."""
    columns = [ID, "trial", "period", "treated", *(f.name for f in INPUTS), "y", *TRUTH]
    frame = pd.DataFrame({c: pd.Series(dtype=float) for c in [*columns, *SUBGROUPS[:2]]})
    return TaskTable(frame.assign(split=pd.Series(dtype=object)), {"rows": 0, "skipped": reason})


def _randomized_rows(outcomes: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Outcome rows on the design's active arm or its comparator, in periods where the design
    gave both; `treated`, `period2`, `after_active` and `comparator` added."""
    arms = truth[[ID, "active_arm", "control_arm"]].astype({"active_arm": str, "control_arm": str})
    rows = outcomes[[ID, "trial", "period", "arm", "is_active", "baseline_score"]].merge(
        arms, on=ID
    )
    arm = rows["arm"].astype(str)
    on_contrast = (arm == rows["active_arm"]) | (arm == rows["control_arm"])
    rows = rows[on_contrast.to_numpy()]
    mix = rows.groupby(["trial", "period"], observed=True)["is_active"].agg(["min", "max"])
    contrasted = mix[~mix["min"] & mix["max"]].reset_index()[["trial", "period"]]
    rows = rows.merge(contrasted, on=["trial", "period"]).sort_values([ID, "period"])
    previous = rows.groupby(ID)["is_active"].shift(1, fill_value=False)
    return rows.assign(
        treated=rows["is_active"].astype(np.int8),
        period2=(rows.groupby(ID).cumcount() > 0).astype(float),
        after_active=previous.astype(float),
        comparator=rows["control_arm"],
    ).reset_index(drop=True)


def _truth(
    rows: pd.DataFrame, truth: pd.DataFrame, threshold: float, model: EffectModel
) -> dict[str, np.ndarray]:
    """Each row's patient's true response probability at 24 h on ketamine and on the
    comparator (at the baseline of their active period, as the truth table has them)."""
    t = rows[[ID]].merge(truth[[ID, *RESPONSE_TRUTH]], on=ID, how="left")
    # the active period's baseline, or for a comparator-only patient their own
    first = rows.sort_values("treated", ascending=False, kind="stable").drop_duplicates(ID)
    base = rows[ID].map(first.set_index(ID)["baseline_score"]).to_numpy(dtype=float)
    p = {arm: true_response(t, arm, base, threshold, model) for arm in ("active", "control")}
    return {
        "p_true_treated": p["active"],
        "p_true_control": p["control"],
        "benefit_true": p["active"] - p["control"],
    }


def input_matrix(frame: pd.DataFrame) -> np.ndarray:
    """The float64 matrix a benefit learner reads (columns: features.columns_of(INPUTS))."""
    return matrix_of(frame, INPUTS, "the benefit model")


def benefit_data(rows: pd.DataFrame) -> BenefitData:
    """The learners' view of benefit-table rows: inputs, arm, response, patient."""
    from ketapredict.benefit.learners import BenefitData

    return BenefitData(
        input_matrix(rows),
        rows["treated"].to_numpy(dtype=np.int64),
        rows["y"].to_numpy(dtype=np.int64),
        rows[ID].to_numpy(),
        columns_of(INPUTS),
    )
