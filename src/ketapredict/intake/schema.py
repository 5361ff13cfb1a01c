"""The input contract for a user's own cohort, as Frictionless Table Schemas.

Two accepted shapes: the generator's three tables (patients, outcomes, visits) or one flat
table per task (responder, relapse). The characteristics and treatment columns are the
feature builder's own (ketapredict.features.SCHEMA: names, units, ranges, categories), the
rest the data dictionary's (ketapredict.cohort.dictionary), so the published schema files
(`schema/*.json`, written by `ketapredict schema`) cannot disagree with what the pipeline
reads. Truth columns are never part of it: no real dataset has them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ketapredict.cohort.scales import SCALES
from ketapredict.contract import COMPARATORS, ID
from ketapredict.features import BASELINE, END_OF_COURSE, TREATMENT, Feature

Type = Literal["string", "integer", "number", "boolean"]
# Rating scales a dataset may use; baseline severity is harmonised to MADRS points by the
# documented proportional factors of ketapredict.cohort.scales (README "Rating scales").
SCALE_NAMES = tuple(SCALES)
TOP_SCORE = max(s.max_score for s in SCALES.values())
DRUGS = ("ketamine", "esketamine", *COMPARATORS, "placebo_spray")
# Column names that identify a person directly: refused unless declared as the id column.
IDENTIFIERS = (
    "name",
    "first_name",
    "last_name",
    "surname",
    "full_name",
    "patient_name",
    "dob",
    "date_of_birth",
    "birth_date",
    "birthdate",
    "mrn",
    "medical_record_number",
    "record_number",
    "nhs_number",
    "ssn",
    "social_security_number",
    "address",
    "street",
    "phone",
    "telephone",
    "email",
    "e_mail",
    "postcode",
    "zip",
    "zip_code",
)


@dataclass(frozen=True)
class Column:
    """One column of an input table."""

    name: str
    type: Type
    description: str
    unit: str = ""
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] = ()

    def frictionless(self) -> dict[str, Any]:
        constraints: dict[str, Any] = {}
        if self.required:
            constraints["required"] = True
        if self.minimum is not None:
            constraints["minimum"] = self.minimum
        if self.maximum is not None:
            constraints["maximum"] = self.maximum
        if self.enum:
            constraints["enum"] = list(self.enum)
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        out["description"] = f"{self.description} ({self.unit})" if self.unit else self.description
        if constraints:
            out["constraints"] = constraints
        return out


@dataclass(frozen=True)
class Table:
    """One input table: its columns, the key that must be unique, where its rows point."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def frictionless(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
            "title": f"ketapredict input: {self.name}",
            "description": self.description,
            "fields": [c.frictionless() for c in self.columns],
            "missingValues": ["", "NA"],
            "primaryKey": list(self.key),
        }
        # no foreignKeys: a Table Schema with one cannot validate its file alone (a standard
        # validator then wants the whole data package); `ketapredict check` checks that every
        # row's patient is in patients, and the other rules across tables
        return schema


def from_feature(f: Feature, *, required: bool | None = None) -> Column:
    """A feature of the model's schema as an input column (0/1 flags as integers)."""
    kind: Type = {"numeric": "number", "binary": "integer", "category": "string"}[f.kind]
    return Column(
        f.name,
        kind,
        f.meaning,
        f.unit,
        f.required if required is None else required,
        f.low,
        f.high,
        f.categories,
    )


IDENTIFIER = Column(ID, "string", "Patient identifier, one patient across tables", required=True)
TRIAL = Column("trial", "string", "Study, site or cohort the patient comes from (default: own)")
SCALE = Column("scale", "string", "Rating scale of the scores", enum=SCALE_NAMES)
BASELINE_SCORE = Column(
    "baseline_score",
    "number",
    "Baseline total on `scale` (harmonised to MADRS points)",
    "points",
    minimum=0,
    maximum=TOP_SCORE,
)
PERIOD = Column("period", "integer", "Treatment period (1, 2, ... in a crossover)", "", True, 1)
RELAPSE = (
    Column("relapse_event", "integer", "Relapse observed (1) or censored (0)", "0/1", True, 0, 1),
    Column(
        "relapse_days",
        "number",
        "Days from the end of the course to relapse or censoring",
        "days",
        True,
        0,
        3650,
    ),
)

# baseline_madrs may come as (baseline_score, scale) instead: see harmonise
_CHARACTERISTICS = tuple(
    from_feature(f, required=False if f.name == "baseline_madrs" else None) for f in BASELINE
)
_TREATMENT = tuple(from_feature(f) for f in TREATMENT)
_END = tuple(from_feature(f) for f in END_OF_COURSE)

PATIENTS = Table(
    "patients",
    "One row per patient: baseline characteristics.",
    (IDENTIFIER, TRIAL, *_CHARACTERISTICS),
    (ID,),
)
OUTCOMES = Table(
    "outcomes",
    "One row per patient and treatment period: the planned treatment and what followed.",
    (
        IDENTIFIER,
        PERIOD,
        Column("drug", "string", "Planned drug", required=True, enum=DRUGS),
        # route, dose and schedule: required where the drug is ketamine or esketamine
        *(replace(c, required=False) for c in _TREATMENT if c.name != "drug"),
        SCALE,
        BASELINE_SCORE,
        # the end-of-course measures and the relapse follow-up: where they were recorded
        *(replace(c, required=False) for c in (*_END, *RELAPSE)),
    ),
    (ID, "period"),
)
VISITS = Table(
    "visits",
    "Long format: one row per rating. The responder label is the improvement at the visit "
    "labelled '24h' (24 hours after the period's first dose) from the period's baseline.",
    (
        IDENTIFIER,
        PERIOD,
        Column(
            "hours",
            "number",
            "Hours since the period's first dose (0: baseline)",
            "h",
            True,
            0,
            24 * 365 * 5,
        ),
        Column("visit", "string", "Visit label (baseline, 24h, ...)", required=True),
        Column("scale", "string", "Rating scale", required=True, enum=SCALE_NAMES),
        Column("score", "number", "Total score on the scale", "points", True, 0, TOP_SCORE),
    ),
    (ID, "period", "visit"),
)
RESPONDER = Table(
    "responder",
    "Flat: one row per patient treated with ketamine or esketamine, the label included.",
    (
        IDENTIFIER,
        TRIAL,
        *_CHARACTERISTICS,
        *_TREATMENT,
        SCALE,
        BASELINE_SCORE,
        Column(
            "response",
            "integer",
            "Improvement >= 50 % at 24 h after the first dose",
            "0/1",
            True,
            0,
            1,
        ),
    ),
    (ID,),
)
RELAPSE_TABLE = Table(
    "relapse",
    "Flat: one row per responder at the end of the ketamine course, with the relapse follow-up.",
    (IDENTIFIER, TRIAL, *_CHARACTERISTICS, *_TREATMENT, SCALE, BASELINE_SCORE, *_END, *RELAPSE),
    (ID,),
)
THREE_TABLES: tuple[Table, ...] = (PATIENTS, OUTCOMES, VISITS)
FLAT: tuple[Table, ...] = (RESPONDER, RELAPSE_TABLE)
TABLES: dict[str, Table] = {t.name: t for t in (*THREE_TABLES, *FLAT)}


def write_schemas(folder: Path) -> list[Path]:
    """One Frictionless Table Schema per input table, <folder>/<table>.json: what users
    validate their files against with a standard tool (e.g. `frictionless validate --schema`)."""
    from ketapredict.io import write_text

    written = []
    for table in TABLES.values():
        path = folder / f"{table.name}.json"
        write_text(json.dumps(table.frictionless(), indent=2) + "\n", path)
        written.append(path)
    return written
