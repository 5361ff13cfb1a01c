"""A checked cohort as the pipeline's task tables: harmonised, labelled, weighted, no oracle.

The same code makes the tables from the generator's cohort (ketapredict.datasets): the
responder label from the 24-hour rating (or the flat table's `response`), the relapse label by
the horizon with IPCW weights per study, the leakage guard and the grouped split (the features
stage). What only the generator knows -- the true probabilities -- is NaN: every later stage
then skips its oracle-relative measures and says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketapredict.cohort.scales import SCALES
from ketapredict.config import FeaturesParams
from ketapredict.contract import ID
from ketapredict.datasets import (
    TaskTable,
    _finish,
    relapse_labels,
    relapse_table,
    responder_table,
)
from ketapredict.features import BASELINE, END_OF_COURSE, TREATMENT, raw_columns
from ketapredict.intake.check import Report
from ketapredict.intake.rules import ACTIVE

OWN = "own"  # the study of rows that name none


def task_tables(report: Report, params: FeaturesParams) -> dict[str, TaskTable]:
    """The responder and relapse tables of a clean check's tables (the flat shape: those of
    the tasks given)."""
    tables = report.tables
    label = params.responder_label
    if report.shape == "three_tables":
        patients, outcomes, visits = _three(tables)
        responder = responder_table(
            patients, visits, outcomes, None, visit=label.visit, threshold=label.threshold,
            model=None,
        )  # fmt: skip
        relapse = relapse_table(
            patients, outcomes, None, horizon_days=params.relapse_horizon_days, model=None
        )
        return {"responder": responder, "relapse": relapse}
    out = {}  # flat: the tasks whose table is given
    if "responder" in tables:
        out["responder"] = _flat_responder(tables["responder"])
    if "relapse" in tables:
        rows = _flat(tables["relapse"])
        out["relapse"] = relapse_labels(_no_oracle(rows), params.relapse_horizon_days, len(rows))
    return out


def baseline_madrs(score: pd.Series, scale: pd.Series) -> pd.Series:
    """A baseline score on its scale in MADRS points, by the documented proportional factors."""
    factor = scale.map({name: s.factor for name, s in SCALES.items()}).astype(float)
    return score.astype(float) / factor


def _harmonised(frame: pd.DataFrame) -> pd.DataFrame:
    """baseline_madrs where only (baseline_score, scale) are given."""
    out = frame.copy()
    if "baseline_score" in out and "scale" in out:
        derived = baseline_madrs(out["baseline_score"], out["scale"])
        given = out["baseline_madrs"] if "baseline_madrs" in out else derived * np.nan
        out["baseline_madrs"] = given.fillna(derived)
    return out


def _studied(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Every row in a study (`trial`; `own` where none is named), each of `columns` present
    (an optional input left out: missing)."""
    out = frame.copy()
    trial = out["trial"] if "trial" in out else pd.Series(None, out.index, dtype=object)
    out["trial"] = trial.fillna(OWN).astype(str)
    for name in columns:
        if name not in out:
            out[name] = np.nan
    return out


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    return _studied(_harmonised(frame), raw_columns("relapse")).assign(period=1)


def _no_oracle(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(p_true=np.nan)


def _flat_responder(frame: pd.DataFrame) -> TaskTable:
    rows = _flat(frame)
    rows = rows.assign(y=rows["response"].astype(float), p_true=np.nan, p_true_control=np.nan)
    return _finish(rows, "responder", {"rows_given": len(rows)})


def _three(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, ...]:
    """patients with baseline_madrs (from the first active period's baseline score and scale
    where missing) and a study; outcomes with is_active and the study; visits as given."""
    patients, outcomes, visits = (tables[n].copy() for n in ("patients", "outcomes", "visits"))
    patients = _studied(patients, [f.name for f in BASELINE])
    for name in (*(f.name for f in (*TREATMENT, *END_OF_COURSE)), "relapse_event", "relapse_days"):
        if name not in outcomes:
            outcomes[name] = np.nan
    outcomes["period"] = outcomes["period"].astype(int)
    visits["period"] = visits["period"].astype(int)
    visits["visit"] = visits["visit"].str.lower()
    outcomes["is_active"] = outcomes["drug"].isin(ACTIVE)
    if "scale" not in outcomes or outcomes["scale"].isna().any():
        on_visits = visits.drop_duplicates([ID, "period"]).set_index([ID, "period"])["scale"]
        keys = pd.MultiIndex.from_frame(outcomes[[ID, "period"]])
        from_visits = pd.Series(on_visits.reindex(keys).to_numpy(), outcomes.index)
        given = outcomes["scale"] if "scale" in outcomes else from_visits * np.nan
        outcomes["scale"] = given.fillna(from_visits)
    first = outcomes[outcomes["is_active"]].sort_values([ID, "period"]).drop_duplicates(ID)
    severity = baseline_madrs(first["baseline_score"], first["scale"])
    derived = pd.Series(severity.to_numpy(), index=first[ID].to_numpy())
    patients["baseline_madrs"] = patients["baseline_madrs"].fillna(
        patients[ID].map(derived).astype(float)
    )
    outcomes = outcomes.merge(patients[[ID, "trial"]], on=ID, how="left")
    return patients, outcomes, visits
