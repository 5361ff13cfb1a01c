"""Plain names for figures: the data dictionary's words for each characteristic, model feature
and subgroup, so a figure reads "Failed antidepressant trials", not "n_failed_trials". Files
and tables keep the column names (a reader of a CSV needs them to join)."""

from __future__ import annotations

from functools import cache

from ketapredict.contract import TASKS
from ketapredict.features import SCHEMA

# where the dictionary's meaning is a definition or too long for an axis
SHORT = {
    "female": "Female sex",
    "baseline_madrs": "Baseline severity (MADRS)",
    "n_failed_trials": "Failed antidepressant trials",
    "comorbid_ptsd": "PTSD",
    "family_history_aud": "Family history of alcohol use disorder",
    "hypertension": "Hypertension",
    "benzodiazepine_mg": "Benzodiazepine dose",
    "antidepressant": "Oral antidepressant",
    "systolic_bp": "Systolic blood pressure",
    "diastolic_bp": "Diastolic blood pressure",
    "substance_use": "Substance use disorder",
    "dose": "Planned dose",
    "sessions": "Planned sessions",
    "interval_days": "Days between sessions",
    "pct_change_end": "Improvement at end of course",
    "maintenance_per_month": "Maintenance sessions per month",
    "treatment": "Planned treatment",
    # the benefit learners' design inputs
    "comparator_midazolam": "Comparator: midazolam",
    "comparator_saline": "Comparator: saline",
    "period2": "Second crossover period",
    "after_active": "After an active period (carry-over)",
    # subgroups
    "age_band": "Age band",
    "sex": "Sex",
    "trial": "Design",
}


@cache
def _meanings() -> dict[str, tuple[str, str]]:
    """Each raw input's plain name and kind, over both tasks."""
    return {f.name: (f.meaning, f.kind) for task in TASKS for f in SCHEMA[task]}


def plain(name: str) -> str:
    """The plain name of a characteristic, a model feature (one-hot: "Diagnosis: bipolar"), a
    block of aliased characteristics ("A + B") or a subgroup; unknown names pass through."""
    if " + " in name:
        return " + ".join(plain(part) for part in name.split(" + "))
    if name in SHORT:
        return SHORT[name]
    meanings = _meanings()
    if name in meanings:
        return meanings[name][0]
    for raw, (meaning, kind) in meanings.items():
        if kind == "category" and name.startswith(f"{raw}_"):
            return f"{meaning}: {name[len(raw) + 1 :]}"
    return name
