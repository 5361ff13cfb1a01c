"""What `ketapredict score --task benefit` adds to scoring: the benefit model's matrix (the
comparator chosen, a patient starting a course), and its output columns: the estimate, its
band and the benefit observed in that band, and the comparator it is against."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ketapredict.contract import COMPARATORS
from ketapredict.features import BENEFIT_DESIGN, BENEFIT_INPUTS, matrix_of

if TYPE_CHECKING:
    from ketapredict.benefit.model import BenefitModel

VALUE = "benefit"
COLUMNS: dict[str, pa.DataType] = {
    VALUE: pa.float64(),
    "benefit_band": pa.string(),
    "benefit_observed": pa.float64(),
    "benefit_observed_low": pa.float64(),
    "benefit_observed_high": pa.float64(),
    "benefit_comparator": pa.string(),
}
# Held fixed for a patient starting a course: not read from the input, never a reason.
FIXED = tuple(f.name for f in BENEFIT_DESIGN if f.name != "comparator")
EXPLAINED = tuple(f for f in BENEFIT_INPUTS if f.name not in FIXED)
MEANING = {
    VALUE: "estimated benefit: the model's risk difference of response at 24 h after one "
    "infusion, ketamine minus the comparator (benefit_comparator); 0.10 = 10 more responders "
    "per 100 such patients",
    "benefit_band": "the third of the training patients' cross-validated estimates the estimate "
    "falls in (low, intermediate, high)",
    "benefit_observed": "the benefit observed in that band: the mean randomized contrast of the "
    "training patients whose cross-validated estimate fell in it, with its 95 % interval "
    "(benefit_observed_low, benefit_observed_high); the interval the estimate comes with",
}


def benefit_matrix(frame: pd.DataFrame, comparator: str) -> np.ndarray:
    """The benefit model's matrix of checked inputs: every row against `comparator`, at the
    start of a course (not a crossover's second period, not after an active one)."""
    fixed = {name: np.zeros(len(frame)) for name in FIXED}
    full = with_comparator(frame, comparator).assign(**fixed)
    return matrix_of(full, BENEFIT_INPUTS, "the benefit model")


def with_comparator(frame: pd.DataFrame, comparator: str) -> pd.DataFrame:
    """`frame` with the comparator column every row is scored against (a Categorical, as
    validation hands categories over)."""
    if comparator not in COMPARATORS:
        raise ValueError(f"comparator {comparator!r}: not one of {', '.join(COMPARATORS)}")
    codes = np.full(len(frame), COMPARATORS.index(comparator))
    return frame.assign(comparator=pd.Categorical.from_codes(codes, categories=COMPARATORS))


def columns(model: BenefitModel, estimate: np.ndarray, comparator: str) -> dict[str, pa.Array]:
    """The benefit output columns of scored rows (COLUMNS order)."""
    # a model saved without bands gives the estimate alone
    bands = model.bands or [dict.fromkeys(("name", "observed", "observed_low", "observed_high"))]
    cuts = [b["upper"] for b in bands[:-1]]
    which = pa.array(np.digitize(estimate, cuts))

    def per_band(key: str, kind: pa.DataType) -> pa.Array:
        return pa.array([b[key] for b in bands], kind).take(which)

    return {
        VALUE: pa.array(estimate),
        "benefit_band": per_band("name", pa.string()),
        "benefit_observed": per_band("observed", pa.float64()),
        "benefit_observed_low": per_band("observed_low", pa.float64()),
        "benefit_observed_high": per_band("observed_high", pa.float64()),
        "benefit_comparator": pa.repeat(pa.scalar(comparator), len(estimate)),
    }


def describe(model: BenefitModel, comparator: str) -> dict[str, Any]:
    """The sidecar's account of the benefit columns and the bands the model carries."""
    return {
        "comparator": comparator,
        "columns": MEANING,
        "bands": model.bands,
        "learner": model.learner,
        "contribution": "TreeSHAP contributions to the estimated benefit, on its scale (risk "
        "difference); benefit_base + reasons + benefit_other = benefit. The comparator is a "
        "reason like any input; the start of a course (no crossover period) is in the base",
    }
