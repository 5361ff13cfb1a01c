"""Task tables from the generated cohort: who is in, the label, the oracle truth, the split.

Responder: patients in their first active (ketamine/esketamine) period; label = response at
the configured visit and threshold; weight 1. Relapse: responders at the end of that period's
course (the period the truth describes; a design with phases can have later active periods);
label = relapse within the horizon. Censoring is handled by inverse probability of censoring
weighting (IPCW): a responder censored before the horizon without relapse has no label and
weight 0; the others are weighted 1 / G, G the Kaplan-Meier probability of remaining
uncensored (per trial design, since follow-up is a design feature) at the label time. Designs
that follow almost no one to the horizon (G(horizon) < 5 %: single-infusion trials with a 1-2
week follow-up) cannot inform the label and are excluded; both exclusions are counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from ketapredict.cohort.effects import EffectModel
from ketapredict.cohort.truth import relapse_probability, response_probability
from ketapredict.contract import ID, SUBGROUPS
from ketapredict.features import raw_columns
from ketapredict.survival import kaplan_meier


@dataclass(frozen=True)
class TaskTable:
    """Rows of one task: id, raw inputs, label `y`, oracle `p_true`, subgroups, `split`."""

    frame: pd.DataFrame
    counts: dict[str, int]


def subgroups(frame: pd.DataFrame) -> pd.DataFrame:
    sex = np.where(
        frame["female"] == 1, "female", np.where(frame["female"] == 0, "male", "unknown")
    )
    bands = pd.cut(frame["age"], [0, 40, 60, 200], right=False, labels=["<40", "40-59", "60+"])
    return frame.assign(sex=sex, age_band=bands.astype(str))


# What the responder table takes from the truth: log-odds, rater error and each arm's spread.
RESPONSE_TRUTH = (
    "logodds_active_24h", "logodds_active_end", "logodds_control_24h", "rating_noise_sd",
    "change_spread_active", "change_spread_control",
)  # fmt: skip


def responder_table(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    outcomes: pd.DataFrame,
    truth: pd.DataFrame | None,
    *,
    visit: str,
    threshold: float,
    model: EffectModel | None,
) -> TaskTable:
    active = outcomes[outcomes["is_active"]].drop_duplicates(ID)
    rows = active.merge(patients.drop(columns=["trial"]), on=ID, how="left")
    if truth is not None:
        rows = rows.merge(truth[[ID, *RESPONSE_TRUTH]], on=ID)
    base = rows["baseline_score"].to_numpy(dtype=float)
    if visit == "end":
        improvement = rows["pct_change_end"].to_numpy(dtype=float)
    else:
        seen = visits[visits["visit"] == visit][[ID, "period", "score"]]
        rows = rows.merge(seen, on=[ID, "period"], how="left")
        improvement = (base - rows["score"].to_numpy(dtype=float)) / base
    unknown = np.full(len(rows), np.nan)  # no truth (a user's cohort): no oracle
    p_control, p_true = unknown, unknown
    if truth is not None and model is not None:
        p_true = true_response(rows, "active", base, threshold, model, at=visit)
        if visit != "end":  # the truth has the comparator at 24 h only
            p_control = true_response(rows, "control", base, threshold, model)
    rows = rows.assign(y=reached(improvement, threshold), p_true=p_true, p_true_control=p_control)
    return _finish(rows, "responder", {"active_periods": len(active)})


def has_oracle(frame: pd.DataFrame) -> bool:
    """Whether a task table carries the true probabilities (the generator's cohorts do; a
    user's never: every oracle-relative measure is then skipped, and said so)."""
    return "p_true" in frame and len(frame) > 0 and bool(frame["p_true"].notna().all())


NO_ORACLE = "no oracle: the cohort has no truth (a user's data)"


def reached(improvement: np.ndarray, threshold: float) -> np.ndarray:
    """1 where the recorded improvement reaches `threshold`, 0 below it, NaN where no score
    was recorded. The score map rounds: >= threshold on the continuous scale is <= (1 - t)
    x baseline, hence the tolerance."""
    return np.where(np.isnan(improvement), np.nan, (improvement >= threshold - 1e-9).astype(float))


def true_response(
    rows: pd.DataFrame,
    arm: str,
    base: np.ndarray,
    threshold: float,
    model: EffectModel,
    *,
    at: str = "24h",
) -> np.ndarray:
    """True probability of a recorded response on the patient's `arm` ('active' or
    'control') at `at` ('24h' or 'end'), from the truth columns of `rows` (RESPONSE_TRUTH)
    and the baseline score `base`."""
    return response_probability(
        rows[f"logodds_{arm}_{at}"].to_numpy(),
        base,
        threshold,
        model,
        rows["rating_noise_sd"].to_numpy(),
        rows[f"change_spread_{arm}"].to_numpy(),
    )


def relapse_table(
    patients: pd.DataFrame,
    outcomes: pd.DataFrame,
    truth: pd.DataFrame | None,
    *,
    horizon_days: float,
    model: EffectModel | None,
) -> TaskTable:
    first_active = outcomes[outcomes["is_active"]].drop_duplicates(ID)
    at_risk = first_active[first_active["relapse_event"].notna()]
    rows = at_risk.merge(patients.drop(columns=["trial"]), on=ID, how="left")
    p_true = np.full(len(rows), np.nan)  # no truth (a user's cohort): no oracle
    if truth is not None and model is not None:
        rows = rows.merge(truth[[ID, "relapse_lp"]], on=ID)
        p_true = relapse_probability(model, rows["relapse_lp"].to_numpy(), horizon_days)
    return relapse_labels(rows.assign(p_true=p_true), horizon_days, len(at_risk))


def relapse_labels(rows: pd.DataFrame, horizon_days: float, at_risk: int) -> TaskTable:
    """The relapse task from responders' follow-up (relapse_event, relapse_days, trial): the
    label by the horizon and the IPCW weights (see the module docstring)."""
    event, days = rows["relapse_event"].to_numpy(), rows["relapse_days"].to_numpy()
    relapsed = (event == 1) & (days <= horizon_days)
    known = relapsed | (days >= horizon_days)
    weight = np.zeros(len(rows))
    short = np.zeros(len(rows), dtype=bool)
    for _, idx in rows.groupby("trial", observed=True).indices.items():
        censor_km = censoring_survival(days[idx], 1.0 - event[idx])
        at_horizon = censor_km(np.array([horizon_days]))[0]
        short[idx] = at_horizon < 0.05
        label_time = np.minimum(days[idx], horizon_days)
        weight[idx] = np.where(known[idx], 1.0 / np.maximum(censor_km(label_time), 1e-12), 0.0)
    y = np.where(known & ~short, relapsed.astype(float), np.nan)
    rows = rows.assign(y=y, weight=np.where(short, 0.0, weight))
    counts = {
        "responders_at_end": at_risk,
        "excluded_short_follow_up": int(short.sum()),
    }
    return _finish(rows, "relapse", counts)


def censoring_survival(
    days: np.ndarray, censored: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """G(t-): the Kaplan–Meier probability of remaining uncensored strictly before t. Rows with
    tied days are taken one at a time in row order, each its own step of the curve."""
    order = np.argsort(days, kind="stable")
    rank = np.empty(len(days))
    rank[order] = np.arange(len(days))
    curve = kaplan_meier(rank, censored)
    ordered = days[order]
    return lambda t: curve.before(np.searchsorted(ordered, t, side="left").astype(float))


def _finish(rows: pd.DataFrame, task: str, counts: dict[str, int]) -> TaskTable:
    unknown = rows["y"].isna()
    counts = {**counts, "excluded_unknown_label": int(unknown.sum())}
    if "weight" not in rows:
        rows = rows.assign(weight=1.0)
    rows = subgroups(rows[~unknown].reset_index(drop=True))
    keep = [
        ID,
        "trial",
        "period",
        *raw_columns(task),
        "y",
        "weight",
        "p_true",
        *(["p_true_control"] if task == "responder" else []),
        *SUBGROUPS[:2],
    ]
    frame = rows[list(dict.fromkeys(keep))].copy()
    frame["y"] = frame["y"].astype(np.int8)
    frame["trial"] = frame["trial"].astype(str)
    for column in ("drug", "route", "diagnosis"):
        frame[column] = frame[column].astype(str)
    counts.update(rows=len(frame), events=int(frame["y"].sum()))
    return TaskTable(frame, counts)


def assign_split(frame: pd.DataFrame, *, test_fraction: float, seed: int) -> np.ndarray:
    """'train'/'test' per row: stratified by label, grouped by patient, seeded."""
    folds = max(2, round(1 / test_fraction))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    _, test = next(splitter.split(frame, frame["y"], groups=frame[ID]))
    split = np.full(len(frame), "train", dtype=object)
    split[test] = "test"
    return split
