"""The generator's tables and their assembly: long visits, per-period outcomes, ids and dtypes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from ketapredict.cohort.outcomes import visit_label
from ketapredict.cohort.scales import Scale
from ketapredict.cohort.specs import Arm, TrialSpec
from ketapredict.contract import ID

COHORT_TABLES = ("patients", "visits", "outcomes", "truth")


@dataclass
class Cohort:
    """The four tables of a generated cohort, in COHORT_TABLES order."""

    patients: pd.DataFrame
    visits: pd.DataFrame
    outcomes: pd.DataFrame
    truth: pd.DataFrame


def category(value: str, n: int) -> pd.Categorical:
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])


def rows(frame: pd.DataFrame, idx: np.ndarray) -> pd.DataFrame:
    """The rows `idx` (sorted, unique) of `frame`, numbered from 0: `frame` itself when they
    are all of them (the callers only read it), else one copy (`reset_index` would be a
    second)."""
    if len(idx) == len(frame):
        return frame
    part = frame.take(idx)
    part.index = pd.RangeIndex(len(idx))
    return part


def concat(parts: list[pd.DataFrame], *, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Concatenate frames column by column, unioning categoricals (sorted, so deterministic);
    `by`: the columns to sort the rows by, stably. A single part's columns are not copied,
    nor are rows in order already."""
    parts = [p for p in parts if len(p)] or parts[:1]
    columns = {}
    for name in parts[0].columns:
        first = parts[0][name]
        if isinstance(first.dtype, pd.CategoricalDtype):
            columns[name] = union_categoricals([p[name] for p in parts], sort_categories=True)
        elif len(parts) == 1:
            columns[name] = first.to_numpy()
        else:
            columns[name] = np.concatenate([p[name].to_numpy() for p in parts])
    if by and not _in_order(columns, by):
        order = _stable_order(columns, by)
        columns = {name: column[order] for name, column in columns.items()}
    return pd.DataFrame(columns, copy=False)


def _in_order(columns: dict[str, np.ndarray], by: tuple[str, ...]) -> bool:
    """Whether the rows are sorted by the `by` columns (the first the primary key) already."""
    tied: np.ndarray | bool = True  # each pair of neighbouring rows: equal in every key so far
    for name in by:
        key = np.asarray(columns[name])
        if np.any(tied & (key[1:] < key[:-1])):
            return False
        tied = tied & (key[1:] == key[:-1])
    return True


def _stable_order(columns: dict[str, np.ndarray], by: tuple[str, ...]) -> np.ndarray:
    """The stable sort of the rows by the `by` columns. Each part is in order already, so the
    last key is usually in order once the rows are sorted by the others: sorting by those
    alone, and checking the last, spares a sort of (often float) values."""
    keys = [np.asarray(columns[name]) for name in reversed(by)]  # np.lexsort: last key first
    if len(keys) == 1:
        return np.argsort(keys[0], kind="stable")
    order = np.lexsort(keys[1:])
    tied = np.ones(max(len(order) - 1, 0), dtype=bool)
    for key in keys[1:]:
        ordered = key[order]
        tied &= ordered[1:] == ordered[:-1]
    last = keys[0][order]
    return np.lexsort(keys) if np.any(tied & (last[1:] < last[:-1])) else order


def long_visits(
    idx: np.ndarray,
    period: int,
    arm: Arm,
    hours: np.ndarray,
    baseline: np.ndarray,
    scores: np.ndarray,
    observed: np.ndarray,
    scale: Scale,
) -> pd.DataFrame:
    """Long table, baseline row first; visits after a patient's dropout are left out."""
    n, v = scores.shape
    all_hours = np.concatenate([[0.0], hours])
    all_scores = np.concatenate([baseline[:, None], scores], axis=1)
    keep = np.concatenate([np.ones((n, 1), dtype=bool), observed], axis=1).ravel()
    labels, label_codes = np.unique([visit_label(h) for h in all_hours], return_inverse=True)
    visit_codes = np.tile(np.arange(v + 1, dtype=np.int16), n)[keep]
    score = all_scores.ravel()[keep]
    responding = all_scores <= baseline[:, None] / 2
    responding[:, 0] = False  # the baseline visit itself
    m = int(keep.sum())
    return pd.DataFrame(
        {
            "patient": np.repeat(idx, v + 1)[keep],
            "period": np.full(m, period + 1, dtype=np.int8),
            "arm": category(arm.name, m),
            "hours": all_hours.astype(np.float32)[visit_codes],
            "visit": pd.Categorical.from_codes(label_codes[visit_codes], categories=labels),
            "scale": category(scale.name, m),
            "score": score.astype(np.int16),
            "response": responding.ravel()[keep],
            "remission": score <= scale.remission_max,
        },
        copy=False,
    )


def outcome_rows(
    idx: np.ndarray,
    period: int,
    arm: Arm,
    active: bool,
    baseline: np.ndarray,
    course: pd.DataFrame,
    relapse: pd.DataFrame,
    ae: pd.DataFrame,
    end_hours: np.ndarray,
) -> pd.DataFrame:
    """One row per patient of an arm-period: the planned treatment (known before it starts),
    the sessions given and when the end-of-course assessment was (known only during it: an
    early exit shortens both), then the course outcomes, relapse and adverse events."""
    n = len(idx)
    head = {
        "patient": idx,
        "period": np.full(n, period + 1, dtype=np.int8),
        "arm": category(arm.name, n),
        "drug": category(arm.drug, n),
        "route": category(arm.route, n),
        "dose": np.full(n, arm.dose),
        "is_active": np.full(n, active),
        "sessions": np.full(n, float(arm.sessions)),
        "interval_days": np.full(n, arm.interval_days),
        "sessions_given": course["n_sessions"].to_numpy(dtype=np.float64),
        "baseline_score": baseline,
        "end_hours": np.asarray(end_hours, dtype=np.float64),
    }
    columns = head | _arrays(course, ("n_sessions", "withdrawal_eligible"))
    columns["withdrawal_arm"] = pd.Categorical(course["withdrawal_arm"])
    columns |= _arrays(relapse, ("relapse_time_true",)) | _arrays(ae, ("cadss_peak",))
    return pd.DataFrame(columns, copy=False)


def finish(
    spec: TrialSpec,
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    outcomes: pd.DataFrame,
    truth: pd.DataFrame,
    id_offset: int,
) -> Cohort:
    """Give every table global patient ids and the trial's name; keep the truth out of outcomes."""
    n = len(patients)
    head = {
        ID: id_offset + np.arange(n, dtype=np.int64),
        "trial": category(spec.name, n),
        "design": category(spec.design, n),
    }
    tables = [pd.DataFrame(head | _arrays(patients), copy=False)]
    for frame, hidden in ((visits, ()), (outcomes, ("relapse_lp",)), (truth, ())):
        head = {ID: id_offset + frame["patient"].to_numpy().astype(np.int64)}
        if "trial" not in frame:
            head["trial"] = category(spec.name, len(frame))
        tables.append(pd.DataFrame(head | _arrays(frame, ("patient", *hidden)), copy=False))
    return Cohort(*tables)


def _arrays(
    frame: pd.DataFrame, leave_out: tuple[str, ...] = ()
) -> dict[str, np.ndarray | pd.api.extensions.ExtensionArray]:
    """A frame's columns as arrays (numpy, or pandas' own for categoricals), without copying."""
    return {
        name: column.array if isinstance(column.dtype, pd.CategoricalDtype) else column.to_numpy()
        for name, column in frame.items()
        if name not in leave_out
    }
