"""Finding a cohort's files, telling its shape, and reading every cell as text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ketapredict.intake.problems import Problem
from ketapredict.intake.schema import FLAT, TABLES, THREE_TABLES

SUFFIXES = (".csv", ".parquet")
MISSING = ("", "na", "nan", "none", "null", "<na>")


def find_files(data: Sequence[Path]) -> tuple[dict[str, Path], list[Problem]]:
    """The input files by table (a folder: its files named after the tables)."""
    files: dict[str, Path] = {}
    problems: list[Problem] = []
    paths: list[Path] = []
    for p in data:
        if p.is_dir():
            paths += sorted(q for q in p.iterdir() if q.suffix.lower() in SUFFIXES)
        else:
            paths.append(p)
    for p in paths:
        name = p.stem.lower()
        if not p.exists():
            problems.append(Problem(str(p), None, None, "file not found", "check the path"))
        elif p.suffix.lower() not in SUFFIXES:
            problems.append(
                Problem(
                    str(p), None, None, "not a CSV or Parquet file", "save it as .csv or .parquet"
                )
            )
        elif name not in TABLES:
            problems.append(
                Problem(
                    str(p),
                    None,
                    None,
                    "cannot tell which table this is",
                    f"name it after its table: {', '.join(TABLES)} (.csv or .parquet)",
                )
            )
        elif name in files:
            problems.append(
                Problem(
                    str(p),
                    None,
                    None,
                    f"a second {name} table (also {files[name]})",
                    "give one file per table",
                )
            )
        else:
            files[name] = p
    return files, problems


def shape_of(files: dict[str, Path]) -> tuple[str, list[Problem]]:
    """'three_tables' or 'flat', or the problem with the set of files."""
    three = {t.name for t in THREE_TABLES}
    flat = {t.name for t in FLAT}
    names = set(files)
    where = ", ".join(str(p) for p in files.values()) or "(no files)"
    if names & three and names & flat:
        return "", [
            Problem(
                where,
                None,
                None,
                "both shapes mixed (three tables and flat tables)",
                "give either patients, outcomes and visits, or responder/relapse",
            )
        ]
    if names & three:
        missing = sorted(three - names)
        if missing:
            return "", [
                Problem(
                    where,
                    None,
                    None,
                    f"missing table(s): {', '.join(missing)}",
                    "the three-table shape needs patients, outcomes and visits",
                )
            ]
        return "three_tables", []
    if names & flat:
        return "flat", []
    return "", [
        Problem(
            where,
            None,
            None,
            "no input table found",
            f"give files named {', '.join(TABLES)} (.csv or .parquet)",
        )
    ]


def read_text(path: Path) -> pd.DataFrame:
    """Every cell as stripped text (None: missing), whatever the format: parsing is checked here,
    never guessed by a reader."""
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    else:
        frame = pd.read_parquet(path)
    out = {}
    for name in frame.columns:
        s = frame[name]
        text = s.astype(object).where(s.notna(), None)
        text = text.map(lambda v: None if v is None else _text(v))
        out[str(name)] = text.where(~text.isin(MISSING) & text.notna(), None)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _text(v: object) -> str:
    if isinstance(v, bool | np.bool_):
        return "1" if v else "0"
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v).strip()


def content_hash(files: dict[str, Path]) -> str:
    """One SHA-256 over the tables' names and bytes: what identifies a user's dataset in the
    records (with its counts), never its rows."""
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(files[name].read_bytes())
    return digest.hexdigest()
