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


def concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames column by column, unioning categoricals (sorted, so deterministic)."""
    parts = [p for p in parts if len(p)] or parts[:1]
    columns = {}
    for name in parts[0].columns:
        first = parts[0][name]
        if isinstance(first.dtype, pd.CategoricalDtype):
            columns[name] = union_categoricals([p[name] for p in parts], sort_categories=True)
        else:
            columns[name] = np.concatenate([p[name].to_numpy() for p in parts])
    return pd.DataFrame(columns)


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
    labels = [visit_label(h) for h in all_hours]
    visit_codes = np.tile(np.arange(v + 1, dtype=np.int16), n)[keep]
    score = all_scores.ravel()[keep]
    base = np.repeat(baseline, v + 1)[keep]
    m = int(keep.sum())
    return pd.DataFrame(
        {
            "patient": np.repeat(idx, v + 1)[keep],
            "period": np.full(m, period + 1, dtype=np.int8),
            "arm": category(arm.name, m),
            "hours": all_hours.astype(np.float32)[visit_codes],
            "visit": pd.Categorical(np.asarray(labels, dtype=object)[visit_codes]),
            "scale": category(scale.name, m),
            "score": score.astype(np.int16),
            "response": (score <= base / 2) & (visit_codes > 0),
            "remission": score <= scale.remission_max,
        }
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
    head = pd.DataFrame(
        {
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
    )
    course = course.drop(columns=["n_sessions", "withdrawal_eligible"]).assign(
        withdrawal_arm=pd.Categorical(course["withdrawal_arm"])
    )
    relapse = relapse.drop(columns=["relapse_time_true"])
    return pd.concat([head, course, relapse, ae.drop(columns=["cadss_peak"])], axis=1)


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
    head = pd.DataFrame(
        {
            ID: id_offset + np.arange(n, dtype=np.int64),
            "trial": category(spec.name, n),
            "design": category(spec.design, n),
        }
    )
    patients = pd.concat([head, patients.reset_index(drop=True)], axis=1)
    tables = []
    for frame in (visits, outcomes.drop(columns=["relapse_lp"]), truth):
        ids = id_offset + frame["patient"].to_numpy().astype(np.int64)
        frame = frame.drop(columns=["patient"]).reset_index(drop=True)
        frame.insert(0, ID, ids)
        if "trial" not in frame:
            frame.insert(1, "trial", category(spec.name, len(frame)))
        tables.append(frame)
    return Cohort(patients, *tables)
