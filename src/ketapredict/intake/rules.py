"""Rules between the columns of a row and across the three tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketapredict.cohort.scales import SCALES
from ketapredict.contract import ID
from ketapredict.features import DOSE_LIMITS
from ketapredict.intake.problems import Report
from ketapredict.intake.table import CheckedTable

ACTIVE = ("ketamine", "esketamine")
LABEL_VISIT = "24h"
# (column, the column it may not exceed, whether equal is allowed, the problem, the fix)
ORDERED = (
    ("diastolic_bp", "systolic_bp", False, "diastolic not below systolic pressure",
     "check the pair: are they swapped?"),
    ("age_at_onset", "age", True, "onset after the patient's current age",
     "age_at_onset is the age at the first episode, at most the age at baseline"),
)  # fmt: skip


def row_rules(t: CheckedTable) -> None:
    """Rules between the columns of one row."""
    p = t.parsed
    for column, bound, allowed_equal, what, fix in ORDERED:
        if column in p and bound in p:
            above = p[column] > p[bound] if allowed_equal else p[column] >= p[bound]
            t.add(np.flatnonzero(above), column, what, fix, t.raw[column].to_dict())
    if "dose" in p and "route" in p:
        limit = p["route"].map(DOSE_LIMITS)
        bad = p["dose"] > limit
        t.add(
            np.flatnonzero(bad),
            "dose",
            "dose impossible for its route in mg/kg",
            "dose is mg/kg of body weight (mg per session for intranasal): was it given in mg?",
            t.raw["dose"].to_dict(),
        )
    if "drug" in p:
        active = p["drug"].isin(ACTIVE)
        for name in ("route", "dose", "sessions"):
            missing = active & (p[name].isna() if name in p else True)
            t.add(
                np.flatnonzero(missing),
                name,
                "missing for a ketamine or esketamine period",
                "give the planned treatment of every active period",
            )
    if "relapse_event" in p or "relapse_days" in p:
        event = p.get("relapse_event", pd.Series(np.nan, t.raw.index)).rename("relapse_event")
        days = p.get("relapse_days", pd.Series(np.nan, t.raw.index)).rename("relapse_days")
        for missing, given in ((event, days), (days, event)):
            half = missing.isna() & given.notna()
            t.add(
                np.flatnonzero(half),
                str(missing.name),
                "relapse follow-up half given",
                "give both relapse_event and relapse_days, or neither",
            )
        if "drug" in p:
            untreated = event.notna() & ~p["drug"].isin(ACTIVE)
            t.add(
                np.flatnonzero(untreated),
                "relapse_event",
                "relapse follow-up of a period without ketamine",
                "relapse is followed after a ketamine or esketamine course",
            )
    _score_within_scale(t)
    if t.table.name in ("patients", "responder", "relapse"):
        _baseline_severity(t)


def _score_within_scale(t: CheckedTable) -> None:
    p = t.parsed
    for name in ("score", "baseline_score"):
        if name in p and "scale" in p:
            top = p["scale"].map({k: s.max_score for k, s in SCALES.items()})
            bad = p[name] > top
            t.add(
                np.flatnonzero(bad),
                name,
                "above the scale's maximum",
                "check the score and the scale it is on",
                t.raw[name].to_dict(),
            )


def _baseline_severity(t: CheckedTable) -> None:
    """baseline_madrs, or baseline_score with its scale (the three-table shape may give it in
    outcomes instead)."""
    p = t.parsed
    has = p.get("baseline_madrs", pd.Series(np.nan, t.raw.index)).notna()
    if t.table.name != "patients":
        has |= (
            p.get("baseline_score", pd.Series(np.nan, t.raw.index)).notna()
            & p.get("scale", pd.Series(None, t.raw.index, dtype=object)).notna()
        )
        t.add(
            np.flatnonzero(~has),
            "baseline_madrs",
            "no baseline severity",
            "give baseline_madrs, or baseline_score with its scale",
        )


def across(checked: dict[str, CheckedTable], report: Report) -> None:
    """Rules across the three tables: every row's patient and period are known, the baseline
    severity is somewhere, the responder label is computable."""
    patients, outcomes, visits = (checked[n] for n in ("patients", "outcomes", "visits"))
    known = set(patients.parsed.get(ID, pd.Series(dtype=object)).dropna())
    for t in (outcomes, visits):
        if ID in t.parsed:
            unknown = t.parsed[ID].notna() & ~t.parsed[ID].isin(known)
            t.add(
                np.flatnonzero(unknown),
                ID,
                "patient not in the patients table",
                "add the patient to patients, or remove these rows",
                t.raw[ID].to_dict(),
            )
    if not all(k in t.parsed for t in (outcomes, visits) for k in (ID, "period")):
        return
    o = pd.DataFrame({k: outcomes.parsed[k] for k in (ID, "period")})
    v = pd.DataFrame({k: visits.parsed[k] for k in (ID, "period")})
    periods = pd.MultiIndex.from_frame(o.dropna())
    orphan = v.notna().all(axis=1) & ~pd.MultiIndex.from_frame(v.fillna(-1)).isin(periods)
    visits.add(
        np.flatnonzero(orphan),
        "period",
        "a rating of a period with no treatment row",
        "add the period (its drug and dose) to outcomes, or fix the period number",
        visits.raw["period"].to_dict() if "period" in visits.raw else None,
    )
    _labels(patients, outcomes, visits, report)


def _labels(
    patients: CheckedTable, outcomes: CheckedTable, visits: CheckedTable, report: Report
) -> None:
    """The responder label of each patient's first active period needs a baseline score (from
    the baseline visit or outcomes.baseline_score) that is not 0; without a 24-hour rating the
    period has no label and is left out (a note, not a problem)."""
    if "drug" not in outcomes.parsed:
        return
    o = outcomes.frame()
    v = visits.frame()
    first = o[o["drug"].isin(ACTIVE)].sort_values([ID, "period"]).drop_duplicates(ID)
    base = v[v.get("visit", pd.Series(dtype=object)).str.lower().eq("baseline")]
    base = base.drop_duplicates([ID, "period"]).set_index([ID, "period"])["score"]
    at = pd.MultiIndex.from_frame(first[[ID, "period"]])
    from_visits = base.reindex(at).to_numpy()
    from_outcomes = first.get("baseline_score", pd.Series(np.nan, first.index)).to_numpy()
    baseline = np.where(np.isnan(from_visits), from_outcomes, from_visits)
    no_base = np.isnan(baseline)
    outcomes.add(
        first.index[no_base],
        "baseline_score",
        "responder label not computable: no baseline score for the first ketamine period",
        "give a baseline visit in visits or baseline_score in outcomes",
    )
    outcomes.add(
        first.index[baseline == 0],
        "baseline_score",
        "responder label not computable: baseline score 0 (improvement is relative to it)",
        "check the baseline score",
    )
    day = v[v.get("visit", pd.Series(dtype=object)).str.lower().eq(LABEL_VISIT)]
    has_day = at.isin(pd.MultiIndex.from_frame(day[[ID, "period"]].dropna()))
    without = int((~has_day & ~no_base).sum())
    if without:
        report.notes.append(
            f"{without} of {len(first)} first ketamine periods have no '{LABEL_VISIT}' rating: "
            "no responder label, left out of the responder task"
        )
    treated = set(first[ID])
    untreated = len(set(patients.parsed.get(ID, pd.Series(dtype=object)).dropna()) - treated)
    if untreated:
        report.notes.append(f"{untreated} patients have no ketamine period: not in the tasks")
