"""A generated cohort written as a user's cohort would come: no truth, in either input shape.

`ketapredict example-data` writes one, to show the input contract filled in and to test the
import path end to end; `other_scale` puts a share of the patients on another rating scale
(their scores converted by the documented factors), as pooled real datasets are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ketapredict.cohort.scales import SCALES
from ketapredict.contract import ID
from ketapredict.features import BASELINE, END_OF_COURSE, TREATMENT
from ketapredict.intake.schema import OUTCOMES, PATIENTS, TABLES, VISITS
from ketapredict.io import write_parquet


def _columns(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    return frame[[n for n in names if n in frame.columns]].copy()


def three_tables(
    patients: pd.DataFrame,
    outcomes: pd.DataFrame,
    visits: pd.DataFrame,
    *,
    other_scale: str | None = None,
    share: float = 0.0,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """patients, outcomes and visits with the schema's columns only (no truth)."""
    scale = visits.drop_duplicates([ID, "period"]).set_index([ID, "period"])["scale"].astype(str)
    out = outcomes.assign(
        scale=scale.reindex(pd.MultiIndex.from_frame(outcomes[[ID, "period"]])).to_numpy()
    )
    tables = {
        "patients": _columns(patients, [c.name for c in PATIENTS.columns]),
        "outcomes": _columns(out, [c.name for c in OUTCOMES.columns]),
        "visits": _columns(visits, [c.name for c in VISITS.columns]),
    }
    for t in tables.values():
        for name in t.columns:
            if isinstance(t[name].dtype, pd.CategoricalDtype):
                t[name] = t[name].astype(str)
    if other_scale and share > 0:
        _rescale(tables, other_scale, share, seed)
    return tables


def _rescale(tables: dict[str, pd.DataFrame], scale: str, share: float, seed: int) -> None:
    """Move `share` of the patients rated on MADRS onto `scale`: scores converted by the
    factors, baseline_madrs left out (the import derives it from baseline_score and scale)."""
    patients, outcomes, visits = tables["patients"], tables["outcomes"], tables["visits"]
    rng = np.random.default_rng(seed)
    on_madrs = outcomes.groupby(ID)["scale"].agg(lambda s: bool((s == "madrs").all()))
    ids = on_madrs.index[on_madrs.to_numpy()]
    moved = set(rng.choice(ids, size=round(share * len(ids)), replace=False).tolist())
    factor = SCALES[scale].factor
    for t, column in ((outcomes, "baseline_score"), (visits, "score")):
        rows = t[ID].isin(moved)
        t.loc[rows, column] = np.round(t.loc[rows, column] * factor)
        t.loc[rows, "scale"] = scale
    patients["baseline_madrs"] = patients["baseline_madrs"].where(~patients[ID].isin(moved))


def flat_responder(task_table: pd.DataFrame) -> pd.DataFrame:
    """The responder table of the features stage as a flat input: inputs and label, no truth."""
    inputs = [f.name for f in (*BASELINE, *TREATMENT)]
    frame = _columns(task_table, [ID, "trial", *inputs])
    return frame.assign(response=task_table["y"].astype(int).to_numpy())


def flat_relapse(patients: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Every responder followed after the first ketamine course (censored or not, whatever the
    follow-up), as a flat input: the import labels and weights them as the generator's."""
    first = outcomes[outcomes["is_active"]].drop_duplicates(ID)
    rows = first[first["relapse_event"].notna()].merge(
        patients.drop(columns=["trial"]), on=ID, how="left"
    )
    inputs = [f.name for f in (*BASELINE, *TREATMENT, *END_OF_COURSE)]
    frame = _columns(rows, [ID, "trial", *inputs, "relapse_event", "relapse_days"])
    for name in ("trial", "drug", "route", "diagnosis"):
        frame[name] = frame[name].astype(str)
    return frame


def rescale_flat(frame: pd.DataFrame, scale: str, share: float, seed: int) -> pd.DataFrame:
    """A flat table with `share` of its patients rated on `scale`: baseline_score and scale
    given instead of baseline_madrs (which the import derives back)."""
    out = frame.copy()
    rng = np.random.default_rng(seed)
    moved = rng.random(len(out)) < share
    out["baseline_score"] = np.where(
        moved, np.round(out["baseline_madrs"] * SCALES[scale].factor), np.nan
    )
    out["scale"] = np.where(moved, scale, None)
    out["baseline_madrs"] = out["baseline_madrs"].where(~moved)
    return out


def _typed(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """The schema's integer columns (0/1 flags, counts) as integers, missing values kept: a
    CSV then says 1, not 1.0, as the Table Schema's integer type requires."""
    out = frame.copy()
    for column in TABLES[table].columns:
        if column.type == "integer" and column.name in out:
            values = pd.to_numeric(out[column.name], errors="coerce")
            numeric = values.notna().sum() == out[column.name].notna().sum()
            if numeric and (values.dropna() % 1 == 0).all():
                out[column.name] = values.astype("Int64")
    return out


def write(tables: dict[str, pd.DataFrame], folder: Path, *, fmt: str = "csv") -> list[Path]:
    """Each table as <folder>/<name>.<fmt>."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, raw in tables.items():
        frame = _typed(raw, name) if name in TABLES else raw
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False)
        else:
            write_parquet(frame, path)
        written.append(path)
    return written
