"""The one feature builder and its input schema -- the public contract of `ketapredict score`.

Raw inputs (names, units, ranges, categories) are listed in SCHEMA; build_matrix (and
build_features, its frame) turns a frame of them into the float64 model matrix every model is
trained and scored on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ketapredict.contract import BENEFIT, COMPARATORS, AnyTask, Task
from ketapredict.errors import DataError, LeakageError


@dataclass(frozen=True)
class Feature:
    """One raw input: its unit, valid range or categories, and when it is known."""

    name: str
    kind: Literal["numeric", "binary", "category"]
    unit: str
    meaning: str
    low: float | None = None
    high: float | None = None
    categories: tuple[str, ...] = ()
    required: bool = False
    timing: Literal["before", "during"] = "before"


def _n(name: str, unit: str, low: float, high: float, meaning: str, **kw: object) -> Feature:
    return Feature(name, "numeric", unit, meaning, low, high, **kw)  # type: ignore[arg-type]


def _b(name: str, meaning: str, **kw: object) -> Feature:
    return Feature(name, "binary", "0/1", meaning, 0, 1, **kw)  # type: ignore[arg-type]


BASELINE: tuple[Feature, ...] = (
    _n("age", "years", 18, 100, "Age", required=True),
    _b("female", "Female sex", required=True),
    _n("bmi", "kg/m2", 12, 80, "Body-mass index"),
    _n("height_cm", "cm", 120, 230, "Height"),
    _n(
        "baseline_madrs",
        "MADRS points",
        0,
        60,
        "Baseline severity (MADRS or equivalent)",
        required=True,
    ),
    _n("episode_months", "months", 0, 900, "Duration of the current episode"),
    _n("age_at_onset", "years", 3, 100, "Age at onset of the first episode"),
    _n("n_failed_trials", "count", 0, 30, "Failed antidepressant trials in this episode"),
    _b("anxious_depression", "Anxious depression"),
    _b("comorbid_ptsd", "PTSD, comorbid or primary"),
    _b("family_history_aud", "Alcohol use disorder in a first-degree relative"),
    _b("prior_suicide_attempt", "Lifetime suicide attempt"),
    _b("suicidal_ideation", "Current suicidal ideation"),
    _n("benzodiazepine_mg", "mg diazepam-eq/day", 0, 200, "Concomitant benzodiazepine dose"),
    _b("antidepressant", "Concomitant oral antidepressant"),
    _n("systolic_bp", "mmHg", 70, 250, "Baseline systolic blood pressure"),
    _n("diastolic_bp", "mmHg", 40, 150, "Baseline diastolic blood pressure"),
    _b("hypertension", "Systolic >= 140 or diastolic >= 90 mmHg"),
    _b("substance_use", "Lifetime substance use disorder"),
    _n("education_years", "years", 0, 30, "Years of education"),
    _b("left_handed", "Left-handed"),
    Feature(
        "diagnosis",
        "category",
        "",
        "Diagnosis",
        categories=("mdd", "bipolar", "ptsd"),
        required=True,
    ),
)
TREATMENT: tuple[Feature, ...] = (
    Feature(
        "drug", "category", "", "Planned drug", categories=("ketamine", "esketamine"), required=True
    ),
    Feature(
        "route",
        "category",
        "",
        "Planned route",
        categories=("iv", "im", "intranasal", "oral"),
        required=True,
    ),
    _n("dose", "mg/kg (mg intranasal)", 0, 300, "Planned dose per session", required=True),
    _n("sessions", "count", 1, 100, "Planned sessions in the course", required=True),
    _n("interval_days", "days", 0, 60, "Planned days between sessions"),
)
END_OF_COURSE: tuple[Feature, ...] = (
    _n(
        "pct_change_end",
        "fraction",
        -2,
        1,
        "Improvement from baseline at end of course",
        required=True,
        timing="during",
    ),
    _b("remission_end", "Remission at end of course", required=True, timing="during"),
    _n("cadss_peak", "CADSS points", 0, 92, "Peak dissociation during infusion", timing="during"),
    _n(
        "maintenance_per_month",
        "sessions/month",
        0,
        31,
        "Planned maintenance sessions",
        timing="during",
    ),
)
# `dose` is in mg/kg, except intranasal (mg per session). Above these a planned dose is not
# possible, most likely a dose in mg written as mg/kg: IV 5 mg/kg is past the anaesthetic
# induction range (1-4.5 mg/kg, ketamine label) and 10x the antidepressant dose (0.5 mg/kg);
# IM 13 mg/kg is the label's top anaesthetic dose; oral 10 mg/kg is above every oral study
# (0.25-3 mg/kg); intranasal 200 mg is more than twice esketamine's top dose (84 mg, three
# 28-mg devices) and than racemic intranasal trials (50 mg).
DOSE_LIMITS: dict[str, float] = {"iv": 5.0, "im": 13.0, "oral": 10.0, "intranasal": 200.0}
# The treatments the training cohorts hold (every active arm of configs/trials, kept in step
# by a test): a drug and route never trained on (esketamine IV, ketamine intranasal), or a dose
# outside its range for that drug and route, is out of distribution whatever the range of
# `dose` over all routes (0.5 mg/kg IV to 84 mg intranasal).
TRAINED_DOSES: dict[tuple[str, str], tuple[float, float]] = {
    ("ketamine", "iv"): (0.5, 0.5),
    ("esketamine", "intranasal"): (84.0, 84.0),
}

SCHEMA: dict[Task, tuple[Feature, ...]] = {
    "responder": BASELINE + TREATMENT,
    "relapse": BASELINE + TREATMENT + END_OF_COURSE,
}

# The benefit model's inputs (ketapredict.benefit): the baseline characteristics, the
# comparator the benefit is against, and the period's place in a crossover (a patient starting
# a course, as scoring sees one, is in neither a second period nor after an active one).
BENEFIT_DESIGN: tuple[Feature, ...] = (
    Feature(
        "comparator",
        "category",
        "",
        "Comparator of the contrast",
        categories=COMPARATORS,
        required=True,
    ),
    Feature("period2", "binary", "0/1", "Second period of a crossover", 0, 1, required=True),
    Feature("after_active", "binary", "0/1", "Follows an active period", 0, 1, required=True),
)
BENEFIT_INPUTS: tuple[Feature, ...] = BASELINE + BENEFIT_DESIGN


def inputs_of(task: AnyTask) -> tuple[Feature, ...]:
    """What `task`'s model reads (the benefit model: BENEFIT_INPUTS)."""
    return BENEFIT_INPUTS if task == BENEFIT else SCHEMA[task]


def raw_columns(task: Task) -> list[str]:
    return [f.name for f in SCHEMA[task]]


def feature_names(task: Task) -> list[str]:
    """Columns of the model matrix: numeric and binary inputs as they are, categories one-hot
    (the first category is the reference and gets no column)."""
    return columns_of(SCHEMA[task])


def columns_of(inputs: tuple[Feature, ...]) -> list[str]:
    """The model-matrix columns of `inputs` (see feature_names)."""
    names: list[str] = []
    for f in inputs:
        if f.kind == "category":
            names += [f"{f.name}_{c}" for c in f.categories[1:]]
        else:
            names.append(f.name)
    return names


def build_features(frame: pd.DataFrame, task: Task) -> pd.DataFrame:
    """The float64 model matrix for `task` as a frame (columns: feature_names(task)); missing
    optional inputs stay NaN. See build_matrix."""
    return pd.DataFrame(build_matrix(frame, task), columns=feature_names(task), index=frame.index)


def build_matrix(frame: pd.DataFrame, task: Task) -> np.ndarray:
    """The float64 model matrix for `task` (rows x feature_names(task), column-major, the
    layout LightGBM reads without a copy); missing optional inputs stay NaN.

    Raises DataError naming the first raw column that is absent. Values are assumed valid
    (scoring validates them first; training data come from the generator)."""
    return matrix_of(frame, SCHEMA[task], f"the {task} model")


def matrix_of(frame: pd.DataFrame, inputs: tuple[Feature, ...], user: str) -> np.ndarray:
    """build_matrix for any tuple of inputs; `user` names who needs them in the error. An
    optional input left out of the frame is missing for every row (as `ketapredict score`
    and the logged signature treat it); a required one is an error."""
    missing = [f.name for f in inputs if f.name not in frame.columns and f.required]
    if missing:
        raise DataError(f"missing input column {missing[0]!r} ({user} needs it)")
    out = np.empty((len(frame), len(columns_of(inputs))), dtype=np.float64, order="F")
    at = 0
    for f in inputs:
        if f.name not in frame.columns:
            width = len(f.categories) - 1 if f.kind == "category" else 1
            out[:, at : at + width] = np.nan
            at += width
            continue
        column = frame[f.name]
        if f.kind == "category":
            width = len(f.categories) - 1
            out[:, at : at + width] = _one_hot(column, f.categories)
        else:
            width = 1
            if column.dtype != np.float64:
                column = pd.to_numeric(column, errors="coerce")
            out[:, at] = column.to_numpy(dtype=np.float64)
        at += width
    return out


def _one_hot(column: pd.Series, categories: tuple[str, ...]) -> np.ndarray:
    """One 0/1 column per category but the first (the reference); NaN where the value is
    missing. Text is trimmed and lower-cased; the work is done once per distinct value."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, distinct = column.cat.codes.to_numpy(), column.cat.categories
    else:
        codes, distinct = pd.factorize(column, use_na_sentinel=True)
    words = pd.Series(distinct, dtype="string").str.strip().str.lower().to_numpy(dtype=object)
    table = np.array([[w == c for c in categories[1:]] for w in words], dtype=np.float64)
    table = np.vstack([table.reshape(len(words), -1), np.full(len(categories) - 1, np.nan)])
    return table[codes]  # code -1 (missing) picks the last, all-NaN row


ALLOWED_TIMING: dict[Task, tuple[str, ...]] = {
    "responder": ("before",),
    "relapse": ("before", "during"),
}


def check_no_leakage(task: Task, dictionary: pd.DataFrame) -> None:
    """Every input must be known when the model is used: before treatment for the responder
    model, by the end of the course for the relapse model. `dictionary` is the generator's
    data dictionary (column, timing); an input it does not know is refused as well."""
    timing = dict(zip(dictionary["column"], dictionary["timing"], strict=False))
    for f in SCHEMA[task]:
        when = timing.get(f.name)
        if when not in ALLOWED_TIMING[task] or f.timing not in ALLOWED_TIMING[task]:
            raise LeakageError(
                f"{task} model input {f.name!r} is measured {when or 'at an unknown time'}; "
                f"{task} inputs must be measured {' or '.join(ALLOWED_TIMING[task])} treatment"
            )
