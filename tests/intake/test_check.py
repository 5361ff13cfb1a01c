"""`ketapredict check`: a clean export passes; each kind of bad real-world data is reported with
its file, row and column, all problems in one report, exit code 2, nothing else written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ketapredict.cli import app
from ketapredict.intake import export
from ketapredict.intake.check import check
from ketapredict.intake.schema import TABLES, write_schemas

Tables = dict[str, pd.DataFrame]


def _write(tables: Tables, folder: Path, fmt: str = "csv") -> Path:
    export.write({k: v.copy() for k, v in tables.items()}, folder, fmt=fmt)
    return folder


def test_a_clean_export_passes_in_both_formats(cohort, tmp_path) -> None:
    for fmt in ("csv", "parquet"):
        report = check([_write(cohort, tmp_path / fmt, fmt)])
        assert report.ok, [p.line() for p in report.problems[:5]]
        assert report.shape == "three_tables"
        assert len(report.tables["patients"]) == len(cohort["patients"])


def _row_of(frame: pd.DataFrame, mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])


# Each case: (name, a change to the tables, the file, the column, words of the problem); the
# change returns the 0-based row it broke (None: a whole-file or whole-column problem).
Case = Callable[[Tables], int | None]


def _set(table: str, column: str, value, where=None, nth: int = 0):
    """Set the `nth` row (of those `where` selects) of a column to `value`."""

    def change(t: Tables) -> int | None:
        frame = t[table]
        rows = np.arange(len(frame)) if where is None else np.flatnonzero(where(frame))
        row = int(rows[nth])
        frame[column] = frame[column].astype(object)
        frame.loc[frame.index[row], column] = value
        return row

    return change


def _active(frame: pd.DataFrame) -> pd.Series:
    return frame["drug"].isin(["ketamine", "esketamine"])


def _duplicate_patient(t: Tables) -> int:
    t["patients"] = pd.concat([t["patients"], t["patients"].iloc[[4]]], ignore_index=True)
    return len(t["patients"]) - 1


def _drop_column(t: Tables) -> None:
    t["patients"] = t["patients"].drop(columns=["age"])


def _identifier(t: Tables) -> None:
    t["patients"]["date_of_birth"] = "1970-01-01"


def _unknown_patient(t: Tables) -> int:
    row = len(t["visits"])
    extra = t["visits"].iloc[[0]].assign(patient_id=999_999)
    t["visits"] = pd.concat([t["visits"], extra], ignore_index=True)
    return row


def _orphan_rating(t: Tables) -> int:
    row = len(t["visits"])
    t["visits"] = pd.concat(
        [t["visits"], t["visits"].iloc[[0]].assign(period=7)], ignore_index=True
    )
    return row


def _no_baseline(t: Tables) -> int:
    o, v = t["outcomes"], t["visits"]
    row = _row_of(o, _active(o))
    pid, period = o.loc[row, "patient_id"], o.loc[row, "period"]
    o.loc[row, "baseline_score"] = np.nan
    t["visits"] = v[
        ~((v["patient_id"] == pid) & (v["period"] == period) & (v["visit"] == "baseline"))
    ].reset_index(drop=True)
    return row


def _zero_baseline(t: Tables) -> int:
    o, v = t["outcomes"], t["visits"]
    row = int(np.flatnonzero(_active(o))[2])
    pid, period = o.loc[row, "patient_id"], o.loc[row, "period"]
    o.loc[row, "baseline_score"] = 0
    base = (v["patient_id"] == pid) & (v["period"] == period) & (v["visit"] == "baseline")
    v.loc[base, "score"] = 0
    return row


def _half_relapse(t: Tables) -> int:
    o = t["outcomes"]
    row = _row_of(o, o["relapse_event"].notna())
    o.loc[row, "relapse_days"] = np.nan
    return row


CASES: list[tuple[str, Case, str, str | None, str]] = [
    ("text in a number", _set("patients", "age", "forty-two"), "patients", "age", "not a number"),
    ("out of range", _set("patients", "age", 130, nth=1), "patients", "age", "out of range"),
    (
        "height in metres",
        _set("patients", "height_cm", 1.72, nth=2),
        "patients",
        "height_cm",
        "centimetres",
    ),
    ("flag not 0/1", _set("patients", "female", "F", nth=3), "patients", "female", "0/1"),
    (
        "unknown category",
        _set("patients", "diagnosis", "depression", nth=4),
        "patients",
        "diagnosis",
        "unknown category",
    ),
    (
        "missing required value",
        _set("patients", "diagnosis", "", nth=5),
        "patients",
        "diagnosis",
        "missing value",
    ),
    ("duplicate patient", _duplicate_patient, "patients", "patient_id", "duplicate patient"),
    ("required column missing", _drop_column, "patients", "age", "required column missing"),
    ("direct identifier", _identifier, "patients", "date_of_birth", "direct identifier"),
    (
        "diastolic above systolic",
        _set("patients", "diastolic_bp", 200, nth=6),
        "patients",
        "diastolic_bp",
        "diastolic",
    ),
    (
        "onset after age",
        _set("patients", "age_at_onset", 99, nth=7),
        "patients",
        "age_at_onset",
        "onset after",
    ),
    (
        "dose in mg as mg/kg",
        _set("outcomes", "dose", 35, _active),
        "outcomes",
        "dose",
        "was it given in mg",
    ),
    (
        "unknown drug",
        _set("outcomes", "drug", "ketamin", nth=5),
        "outcomes",
        "drug",
        "unknown category",
    ),
    (
        "active period without its dose",
        _set("outcomes", "dose", "", _active, nth=1),
        "outcomes",
        "dose",
        "missing for a ketamine",
    ),
    ("relapse half given", _half_relapse, "outcomes", "relapse_days", "half given"),
    (
        "relapse after no ketamine",
        _set("outcomes", "relapse_event", 0, lambda o: o["drug"] == "midazolam"),
        "outcomes",
        "relapse_event",
        "without ketamine",
    ),
    ("visit before baseline", _set("visits", "hours", -24), "visits", "hours", "before baseline"),
    ("score above the scale", _set("visits", "score", 75, nth=1), "visits", "score", "maximum"),
    (
        "unknown scale",
        _set("visits", "scale", "phq9", nth=2),
        "visits",
        "scale",
        "unknown category",
    ),
    (
        "rating of an unknown patient",
        _unknown_patient,
        "visits",
        "patient_id",
        "not in the patients table",
    ),
    ("rating without a treatment", _orphan_rating, "visits", "period", "no treatment row"),
    (
        "label not computable: no baseline",
        _no_baseline,
        "outcomes",
        "baseline_score",
        "not computable",
    ),
    (
        "label not computable: baseline 0",
        _zero_baseline,
        "outcomes",
        "baseline_score",
        "baseline score 0",
    ),
    (
        "period not a whole number",
        _set("outcomes", "period", 1.5, nth=6),
        "outcomes",
        "period",
        "whole number",
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "table", "column", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_each_kind_of_bad_data_is_reported_where_it_is(
    cohort, tmp_path, name, change, table, column, words
) -> None:
    tables = {k: v.copy() for k, v in cohort.items()}
    row = change(tables)
    folder = _write(tables, tmp_path / "in")
    before = sorted(p.name for p in folder.iterdir())
    result = CliRunner().invoke(app, ["check", str(folder)])
    assert result.exit_code == 2, result.output
    report = check([folder])
    hits = [
        p
        for p in report.problems
        if p.file.endswith(f"{table}.csv") and p.column == column and words in p.line()
    ]
    assert hits, [p.line() for p in report.problems]
    if row is not None:
        assert row + 1 in {p.row for p in hits}, [p.line() for p in hits]
    assert hits[0].fix  # and says how to fix it
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written
    assert not report.tables


def test_all_problems_come_in_one_report(cohort, tmp_path) -> None:
    tables = {k: v.copy() for k, v in cohort.items()}
    # every case at once but two: each breaks its own row, but a missing column or a refused
    # identifier column takes its values out of the other checks (the patients' ages)
    skip = ("required column missing", "direct identifier")
    changes = [c for c in CASES if c[0] not in skip]
    expected = []
    for _name, change, table, column, words in changes:
        expected.append((table, column, words))
        change(tables)
    folder = _write(tables, tmp_path / "in")
    report_path = tmp_path / "problems.csv"
    result = CliRunner().invoke(app, ["check", str(folder), "--report", str(report_path)])
    assert result.exit_code == 2
    written = pd.read_csv(report_path)
    lines = [f"{r.file} {r.column} {r.problem} {r.fix}" for r in written.itertuples(index=False)]
    assert len(expected) >= 15
    for table, column, words in expected:
        assert any(
            f"{table}.csv" in line and f" {column} " in line and words in line for line in lines
        ), (table, column, words)


def test_file_level_problems(tmp_path) -> None:
    (tmp_path / "patients.txt").write_text("patient_id\n1\n")
    (tmp_path / "notes.csv").write_text("a\n1\n")
    report = check([tmp_path / "patients.txt", tmp_path / "notes.csv", tmp_path / "gone.csv"])
    lines = " | ".join(p.line() for p in report.problems)
    assert "not a CSV or Parquet file" in lines
    assert "cannot tell which table" in lines
    assert "file not found" in lines
    empty = tmp_path / "flat"
    empty.mkdir()
    (empty / "responder.csv").write_text("patient_id,age\n")
    assert "no rows" in check([empty]).problems[0].line()


def test_the_published_schemas_are_current_and_frictionless(root, tmp_path) -> None:
    written = write_schemas(tmp_path)
    assert {p.stem for p in written} == set(TABLES)
    for path in written:
        published = root / "docs" / "schema" / path.name
        assert published.read_text() == path.read_text(), f"run `ketapredict schema` ({path.name})"
        schema = json.loads(path.read_text())
        assert {"fields", "primaryKey", "missingValues"} <= set(schema)
        for f in schema["fields"]:
            assert f["type"] in ("string", "integer", "number", "boolean")


def test_a_declared_id_may_carry_a_record_number(cohort, tmp_path) -> None:
    tables = {k: v.rename(columns={"patient_id": "mrn"}) for k, v in cohort.items()}
    folder = _write(tables, tmp_path / "in")
    assert not check([folder]).ok  # an identifier column, and no patient_id
    assert check([folder], id_column="mrn").ok


def test_the_three_tables_speak_the_data_dictionary(specs) -> None:
    """The input contract's three tables use the generator's column names (README's data
    dictionary), and never a truth column; `scale` is the only column the import adds to
    outcomes (the generator keeps a period's scale on its visits)."""
    from ketapredict.cohort.dictionary import data_dictionary

    dictionary = data_dictionary(specs.population)
    known = set(zip(dictionary["table"], dictionary["column"], strict=True))
    truth = set(dictionary.loc[dictionary["table"] == "truth", "column"]) - {"patient_id", "trial"}
    for name in ("patients", "outcomes", "visits"):
        for column in TABLES[name].columns:
            assert (name, column.name) in known or (name, column.name) == ("outcomes", "scale")
            assert column.name not in truth
