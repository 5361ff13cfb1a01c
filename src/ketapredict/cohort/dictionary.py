"""The data dictionary: every generated column, its unit, meaning and when it is measured."""

from __future__ import annotations

import pandas as pd

from ketapredict.cohort.population import PopulationSpec
from ketapredict.cohort.truth import TRUE_COLUMNS

BEFORE, DURING, AFTER, TRUTH, ID = "before", "during", "after", "truth", "id"

# table, column, unit, timing, meaning -- all but the population covariates, which come from
# configs/population.yaml so the dictionary and the generator cannot disagree.
FIXED: list[tuple[str, str, str, str, str]] = [
    ("patients", "patient_id", "", ID, "Patient identifier, unique across the pooled cohort"),
    ("patients", "trial", "", BEFORE, "Trial design the patient was simulated under"),
    ("patients", "design", "", BEFORE, "parallel, crossover, open_label or randomized_withdrawal"),
    ("patients", "diagnosis", "", BEFORE, "mdd (unipolar), bipolar or ptsd"),
    ("patients", "hypertension", "0/1", BEFORE, "Systolic >= 140 or diastolic >= 90 mmHg"),
    ("visits", "patient_id", "", ID, "Patient identifier"),
    ("visits", "trial", "", BEFORE, "Trial design"),
    (
        "visits",
        "period",
        "",
        BEFORE,
        "Treatment period (crossover: 1, 2, ...; phases count on; otherwise 1)",
    ),
    ("visits", "arm", "", BEFORE, "Arm received in this period"),
    ("visits", "hours", "h", AFTER, "Hours since the period's first dose (0 = baseline)"),
    ("visits", "visit", "", AFTER, "Visit label (baseline, 40min, 2h, 24h, d7, ...)"),
    ("visits", "scale", "", BEFORE, "Rating scale (madrs, hdrs17, hdrs21, hdrs25, iesr)"),
    ("visits", "score", "points", AFTER, "Total score on the scale"),
    ("visits", "response", "bool", AFTER, "Score <= 50 % of the period baseline"),
    ("visits", "remission", "bool", AFTER, "Score at or below the scale's remission cut-off"),
    ("outcomes", "patient_id", "", ID, "Patient identifier"),
    ("outcomes", "trial", "", BEFORE, "Trial design"),
    ("outcomes", "period", "", BEFORE, "Treatment period"),
    ("outcomes", "arm", "", BEFORE, "Arm received in this period (planned treatment)"),
    (
        "outcomes",
        "drug",
        "",
        BEFORE,
        "Planned drug: ketamine, esketamine, saline, midazolam, placebo_spray",
    ),
    ("outcomes", "route", "", BEFORE, "Planned route: iv, im, intranasal, oral"),
    ("outcomes", "dose", "mg/kg or mg", BEFORE, "Planned dose per session (mg for intranasal)"),
    ("outcomes", "is_active", "bool", BEFORE, "Ketamine or esketamine in this period"),
    ("outcomes", "sessions", "count", BEFORE, "Planned sessions in the course"),
    ("outcomes", "interval_days", "days", BEFORE, "Planned days between sessions"),
    (
        "outcomes",
        "sessions_given",
        "count",
        DURING,
        "Sessions given: as planned, fewer after an early exit",
    ),
    ("outcomes", "baseline_score", "points", BEFORE, "Period baseline on the trial's scale"),
    (
        "outcomes",
        "end_hours",
        "h",
        DURING,
        "End-of-course assessment (24 h after the last dose; the exit visit after an early exit)",
    ),
    (
        "outcomes",
        "response_24h",
        "0/1",
        AFTER,
        "Response 24 h after the first dose (NaN: dropped out)",
    ),
    ("outcomes", "remission_24h", "0/1", AFTER, "Remission 24 h after the first dose"),
    (
        "outcomes",
        "pct_change_end",
        "fraction",
        DURING,
        "Improvement from baseline at end of course (depth of response)",
    ),
    ("outcomes", "response_end", "0/1", DURING, "Response at the end of the course"),
    ("outcomes", "remission_end", "0/1", DURING, "Remission at the end of the course"),
    (
        "outcomes",
        "withdrawal_arm",
        "",
        DURING,
        "Randomized-withdrawal arm after induction ('' if none)",
    ),
    (
        "outcomes",
        "maintenance_per_month",
        "sessions/month",
        DURING,
        "Maintenance sessions after the course",
    ),
    ("outcomes", "on_maintenance", "0/1", DURING, "Any maintenance after the course"),
    (
        "outcomes",
        "cadss_peak",
        "CADSS points",
        DURING,
        "Peak dissociation (CADSS, 0-92) during infusion",
    ),
    (
        "outcomes",
        "relapse_event",
        "0/1",
        AFTER,
        "Relapse observed (responders at end of an active course)",
    ),
    ("outcomes", "relapse_days", "days", AFTER, "Days from end of course to relapse or censoring"),
    ("outcomes", "ae_dissociation", "0/1", DURING, "Dissociation (CADSS >= 5) in any session"),
    ("outcomes", "ae_dizziness", "0/1", DURING, "Dizziness in any session"),
    ("outcomes", "ae_nausea", "0/1", DURING, "Nausea in any session"),
    ("outcomes", "ae_headache", "0/1", DURING, "Headache in any session"),
    ("outcomes", "sbp_rise", "mmHg", DURING, "Peak systolic rise during infusion"),
    ("outcomes", "dbp_rise", "mmHg", DURING, "Peak diastolic rise during infusion"),
    ("outcomes", "ae_tolerance", "0/1", AFTER, "Tolerance, by cumulative sessions"),
    (
        "outcomes",
        "ae_cognitive_complaints",
        "0/1",
        AFTER,
        "Cognitive complaints, by cumulative sessions",
    ),
    ("outcomes", "ae_urinary_symptoms", "0/1", AFTER, "Urinary symptoms, by cumulative sessions"),
    ("outcomes", "ae_dependence", "0/1", AFTER, "Dependence, by cumulative sessions"),
    ("outcomes", "dropout_day", "days", AFTER, "Days from enrolment to dropout (NaN: completed)"),
    ("truth", "patient_id", "", ID, "Patient identifier"),
    ("truth", "trial", "", TRUTH, "Trial design"),
    ("truth", "active_arm", "", TRUTH, "Active arm the truth refers to"),
    (
        "truth",
        "control_arm",
        "",
        TRUTH,
        "Comparator the truth refers to (saline for single-arm designs)",
    ),
    (
        "truth",
        "trial_shift_expectancy",
        "log-odds",
        TRUTH,
        "The trial's draw of the non-specific shift",
    ),
    ("truth", "trial_shift_drug", "log-odds", TRUTH, "The trial's draw of the drug-effect shift"),
    (
        "truth",
        "logodds_active_24h",
        "log-odds",
        TRUTH,
        "True log-odds of response 24 h after one active dose",
    ),
    ("truth", "logodds_control_24h", "log-odds", TRUTH, "Same under the design's comparator"),
    ("truth", "logodds_saline_24h", "log-odds", TRUTH, "Same under one IV saline infusion"),
    ("truth", "logodds_midazolam_24h", "log-odds", TRUTH, "Same under IV midazolam 0.045 mg/kg"),
    (
        "truth",
        "logodds_active_end",
        "log-odds",
        TRUTH,
        "True log-odds of response at end of the active course",
    ),
    (
        "truth",
        "p_response_active_24h",
        "probability",
        TRUTH,
        "True P(recorded response at 24 h) under ketamine",
    ),
    ("truth", "p_response_control_24h", "probability", TRUTH, "Same under the design's comparator"),
    ("truth", "p_response_saline_24h", "probability", TRUTH, "Same under one IV saline infusion"),
    ("truth", "p_response_midazolam_24h", "probability", TRUTH, "Same under IV midazolam"),
    (
        "truth",
        "p_response_active_end",
        "probability",
        TRUTH,
        "True P(recorded response at end of course)",
    ),
    (
        "truth",
        "benefit_logodds_24h",
        "log-odds",
        TRUTH,
        "True benefit at 24 h: active minus comparator log-odds",
    ),
    (
        "truth",
        "rating_noise_sd",
        "scale points",
        TRUTH,
        "SD of one rating's error on the trial's scale",
    ),
    ("truth", "change_spread_active", "ratio", TRUTH, "Spread of change on the active arm"),
    ("truth", "change_spread_control", "ratio", TRUTH, "Spread of change on the comparator"),
    (
        "truth",
        "relapse_lp",
        "log hazard",
        TRUTH,
        "True relapse linear predictor (responders at end)",
    ),
    ("truth", "p_relapse_horizon", "probability", TRUTH, "True P(relapse by the horizon)"),
    ("truth", "relapse_horizon_days", "days", TRUTH, "The horizon of p_relapse_horizon"),
    ("truth", "benefit_risk_24h", "probability", TRUTH, "True benefit at 24 h: risk difference"),
]


def data_dictionary(population: PopulationSpec) -> pd.DataFrame:
    rows = [
        ("patients", name, c.unit, BEFORE, c.meaning) for name, c in population.covariates.items()
    ]
    true = [
        (
            "truth",
            f"true_{name}",
            population.covariates[name].unit,
            TRUTH,
            "True value (the patients table has it as recorded)",
        )
        for name in TRUE_COLUMNS
        if name in population.covariates
    ]
    frame = pd.DataFrame(
        FIXED[:4] + rows + FIXED[4:] + true,
        columns=["table", "column", "unit", "timing", "meaning"],
    )
    return frame


def columns_measured(population: PopulationSpec, timing: str) -> set[str]:
    """Column names whose measurement time is `timing` (before/during/after/truth)."""
    frame = data_dictionary(population)
    return set(frame.loc[frame["timing"] == timing, "column"])
