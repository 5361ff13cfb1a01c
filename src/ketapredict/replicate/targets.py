"""Compute each published statistic from one simulated trial, the way the paper computed it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from ketapredict.cohort.frames import Cohort
from ketapredict.cohort.specs import Target
from ketapredict.contract import ID
from ketapredict.replicate import stats
from ketapredict.validation import Strict


class PooledTarget(Strict):
    """A meta-analysis figure: the target computed over several presets pooled at size n."""

    label: str
    designs: list[str] = Field(min_length=1)
    n: int = Field(gt=0)
    target: Target

    @model_validator(mode="before")
    @classmethod
    def _label_target(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("target"), dict):
            data = {**data, "target": {"label": data.get("label", ""), **data["target"]}}
        return data


def _arm_rows(target: Target, out: pd.DataFrame, arm: str | None) -> pd.DataFrame:
    """Outcome rows of an arm (a withdrawal arm selects by randomized withdrawal), in a group."""
    rows = out
    if arm is not None:
        by_withdrawal = (out["withdrawal_arm"].astype(str) == arm).any()
        column = "withdrawal_arm" if by_withdrawal else "arm"
        rows = out[out[column].astype(str) == arm]
    if target.group == "remitters":
        rows = rows[rows["remission_end"] == 1]
    elif target.group == "responders_not_remitted":
        rows = rows[(rows["response_end"] == 1) & (rows["remission_end"] == 0)]
    elif target.group == "no_maintenance":
        rows = rows[rows["on_maintenance"] == 0]
    return rows


def _visit_rows(cohort: Cohort, rows: pd.DataFrame, visit: str) -> pd.DataFrame:
    """Visit scores of these outcome rows at a visit label, with the period baseline."""
    v = cohort.visits
    v = v[v["visit"] == visit][[ID, "period", "score", "response", "remission"]]
    keys = rows[[ID, "period", "baseline_score"]]
    merged = keys.merge(v, on=[ID, "period"], how="inner")
    merged["change"] = merged["score"] - merged["baseline_score"]
    return merged


def _end_or_visit(
    cohort: Cohort, t: Target, arm: str | None, end_col: str, visit_col: str
) -> float:
    rows = _arm_rows(t, cohort.outcomes, arm)
    if t.visit == "end":
        return stats.proportion(rows[end_col].to_numpy(dtype=float))
    return stats.proportion(_visit_rows(cohort, rows, t.visit)[visit_col].to_numpy(dtype=float))


def _improved(improvement: pd.Series, threshold: float) -> np.ndarray:
    """1 where the fraction of improvement reaches the threshold, NaN where it is unknown; the
    tolerance keeps a score exactly at the threshold (21 of a baseline 30 at 30 %) a responder."""
    x = improvement.to_numpy(dtype=float)
    return np.where(np.isnan(x), np.nan, (x >= threshold - 1e-9).astype(float))


def _responded(rows: pd.DataFrame, threshold: float | None) -> np.ndarray:
    """Response at a visit: the generator's flag (>= 50 %), or improvement >= the threshold
    computed from the visit scores, as the paper did."""
    if threshold is None:
        return rows["response"].to_numpy(dtype=float)
    return _improved(-rows["change"] / rows["baseline_score"], threshold)


def _response_rate(cohort: Cohort, t: Target) -> float:
    """Share responding at the visit (or the end of the course) among those assessed."""
    if t.threshold is None:
        return _end_or_visit(cohort, t, t.arm, "response_end", "response")
    rows = _arm_rows(t, cohort.outcomes, t.arm)
    if t.visit == "end":
        return stats.proportion(_improved(rows["pct_change_end"], t.threshold))
    return stats.proportion(_responded(_visit_rows(cohort, rows, t.visit), t.threshold))


def _change(cohort: Cohort, t: Target, arm: str | None) -> np.ndarray:
    rows = _arm_rows(t, cohort.outcomes, arm)
    return _visit_rows(cohort, rows, t.visit)["change"].to_numpy(dtype=float)


def _two_arms(cohort: Cohort, t: Target) -> pd.DataFrame:
    both = []
    for arm, flag in ((t.arm, 1.0), (t.versus, 0.0)):
        rows = _visit_rows(cohort, _arm_rows(t, cohort.outcomes, arm), t.visit)
        both.append(rows.assign(group=flag))
    return pd.concat(both, ignore_index=True)


def _paired(cohort: Cohort, t: Target) -> float:
    a = _visit_rows(cohort, _arm_rows(t, cohort.outcomes, t.arm), t.visit)
    b = _visit_rows(cohort, _arm_rows(t, cohort.outcomes, t.versus), t.visit)
    pairs = a.merge(b, on=ID, suffixes=("_a", "_b"))
    return stats.paired_difference(
        pairs["change_a"].to_numpy(float), pairs["change_b"].to_numpy(float)
    )


def _mean_difference(cohort: Cohort, t: Target) -> float:
    out = cohort.outcomes
    crossover = out.groupby(ID)["period"].nunique().max() > 1
    if crossover:
        return _paired(cohort, t)
    return stats.mean(_change(cohort, t, t.arm)) - stats.mean(_change(cohort, t, t.versus))


def _ancova(cohort: Cohort, t: Target) -> float:
    d = _two_arms(cohort, t)
    return stats.ancova_difference(
        d["score"].to_numpy(float), d["group"].to_numpy(float), d["baseline_score"].to_numpy(float)
    )


def _odds_ratio(cohort: Cohort, t: Target) -> float:
    d = _two_arms(cohort, t)
    return stats.odds_ratio(_responded(d, t.threshold), d["group"].to_numpy(float))


def _relapse(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    rows = rows[rows["relapse_event"].notna()]
    return rows["relapse_days"].to_numpy(float), rows["relapse_event"].to_numpy(float)


def _hazard_ratio(cohort: Cohort, t: Target) -> float:
    a = _relapse(_arm_rows(t, cohort.outcomes, t.arm))
    b = _relapse(_arm_rows(t, cohort.outcomes, t.versus))
    group = np.concatenate([np.ones(len(a[0])), np.zeros(len(b[0]))])
    return stats.cox_hazard_ratio(np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]]), group)


def _patients(cohort: Cohort, t: Target) -> pd.DataFrame:
    if t.arm is None:
        return cohort.patients
    ids = _arm_rows(t, cohort.outcomes, t.arm)[ID]
    return cohort.patients[cohort.patients[ID].isin(ids)]


def _randomized(cohort: Cohort, t: Target) -> float:
    """Patients randomized after induction -- or to `arm`, if named -- per patient enrolled
    (scaled by `compute`)."""
    rows = _arm_rows(t, cohort.outcomes, t.arm)
    if t.arm is not None:
        return float(rows[ID].nunique()) / max(len(cohort.patients), 1)
    return float((rows["withdrawal_arm"].astype(str) != "").sum()) / max(len(cohort.patients), 1)


STATISTICS: dict[str, Callable[[Cohort, Target], float]] = {
    "response_rate": _response_rate,
    "remission_rate": lambda c, t: _end_or_visit(c, t, t.arm, "remission_end", "remission"),
    "mean_change": lambda c, t: stats.mean(_change(c, t, t.arm)),
    "sd_change": lambda c, t: stats.sd(_change(c, t, t.arm)),
    "mean_difference": _mean_difference,
    "ancova_difference": _ancova,
    "odds_ratio": _odds_ratio,
    "median_relapse_days": lambda c, t: stats.km_median(*_relapse(_arm_rows(t, c.outcomes, t.arm))),
    "relapse_proportion": lambda c, t: stats.proportion(
        _relapse(_arm_rows(t, c.outcomes, t.arm))[1]
    ),
    "hazard_ratio": _hazard_ratio,
    "km_survival": lambda c, t: stats.km_survival(
        *_relapse(_arm_rows(t, c.outcomes, t.arm)), at=t.at_days
    ),
    "ae_rate": lambda c, t: stats.proportion(
        _arm_rows(t, c.outcomes, t.arm)[f"ae_{t.column}"].to_numpy(float)
    ),
    "ae_mean": lambda c, t: stats.mean(_arm_rows(t, c.outcomes, t.arm)[t.column].to_numpy(float)),
    "baseline_mean": lambda c, t: stats.mean(
        _arm_rows(t, c.outcomes, t.arm)["baseline_score"].to_numpy(float)
    ),
    "covariate_mean": lambda c, t: stats.mean(_patients(c, t)[t.column].to_numpy(float)),
    "covariate_sd": lambda c, t: stats.sd(_patients(c, t)[t.column].to_numpy(float)),
    "count": _randomized,
}


def compute(target: Target, cohort: Cohort, *, enrolled: int) -> float:
    """The simulated value of one published statistic in one simulated trial; counts are
    reported per `enrolled` patients (the published size), whatever the simulated size."""
    value = float(STATISTICS[target.statistic](cohort, target))
    return value * enrolled if target.statistic == "count" else value
