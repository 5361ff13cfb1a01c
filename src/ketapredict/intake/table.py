"""One input table under check: its columns' names, then each value against its column."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ketapredict.contract import ID
from ketapredict.intake.problems import Problem
from ketapredict.intake.schema import IDENTIFIERS, Column, Table

TRUE, FALSE = ("1", "1.0", "true", "yes"), ("0", "0.0", "false", "no")


class CheckedTable:
    """One table being checked: its frame of text, the parsed columns, its problems."""

    def __init__(self, table: Table, path: Path, frame: pd.DataFrame, id_column: str) -> None:
        self.table, self.file, self.raw = table, str(path), frame
        self.problems: list[Problem] = []
        self.parsed: dict[str, pd.Series] = {}
        self.id_column = id_column

    def add(self, rows: Iterable[int], column: str | None, what: str, fix: str, values=None):
        for i in rows:
            value = None if values is None else values.get(i)
            self.problems.append(Problem(self.file, int(i) + 1, column, what, fix, value))

    def columns(self) -> None:
        """Names: duplicates, direct identifiers, required columns; the id renamed."""
        seen: dict[str, str] = {}
        rename = {}
        for name in self.raw.columns:
            key = name.strip().lower()
            if key in seen:
                self.problems.append(
                    Problem(
                        self.file,
                        None,
                        name,
                        f"column appears twice (also {seen[key]!r})",
                        "keep one of them",
                    )
                )
                continue
            seen[key] = name
            if key == self.id_column.lower():
                key = ID
            elif key in IDENTIFIERS:
                self.problems.append(
                    Problem(
                        self.file,
                        None,
                        name,
                        "a direct identifier (names, dates of birth, "
                        "record numbers and addresses are refused)",
                        "remove the column, or declare it as the id with --id",
                    )
                )
                continue
            rename[name] = key
        self.raw = self.raw[list(rename)].rename(columns=rename)
        for c in self.table.columns:
            if c.required and c.name not in self.raw:
                self.problems.append(
                    Problem(
                        self.file,
                        None,
                        c.name,
                        "required column missing",
                        f"add it: {c.description}",
                    )
                )

    def values(self) -> None:
        for c in self.table.columns:
            if c.name in self.raw:
                self.parsed[c.name] = self._column(c, self.raw[c.name])

    def _column(self, c: Column, text: pd.Series) -> pd.Series:
        present = text.notna()
        shown = text.to_dict()
        if c.required:
            self.add(
                np.flatnonzero(~present),
                c.name,
                "missing value (required)",
                f"fill it in: {c.description}",
            )
        if c.type == "string":
            if not c.enum:
                return text
            lower = text.str.lower()
            bad = present & ~lower.isin(c.enum)
            self.add(
                np.flatnonzero(bad),
                c.name,
                "unknown category",
                f"use one of {', '.join(c.enum)}",
                shown,
            )
            return lower.where(~bad, None)
        lower = text.str.lower()
        if c.type == "integer" and c.minimum == 0 and c.maximum == 1:
            number = pd.Series(
                np.where(lower.isin(TRUE), 1.0, np.where(lower.isin(FALSE), 0.0, np.nan)),
                index=text.index,
            )
            bad = present & number.isna()
            self.add(
                np.flatnonzero(bad), c.name, "not a 0/1 flag", "write 1 (yes) or 0 (no)", shown
            )
            return number
        number = pd.to_numeric(text, errors="coerce").astype(float)
        bad = present & (number.isna() | ~np.isfinite(number))
        self.add(np.flatnonzero(bad), c.name, "not a number", _number_fix(c), shown)
        number = number.where(~bad)
        if c.type == "integer":
            frac = number.notna() & (number % 1 != 0)
            self.add(
                np.flatnonzero(frac), c.name, "not a whole number", "give a whole number", shown
            )
            number = number.where(~frac)
        low = number < c.minimum if c.minimum is not None else pd.Series(False, text.index)
        high = number > c.maximum if c.maximum is not None else pd.Series(False, text.index)
        if c.name == "hours":
            self.add(
                np.flatnonzero(low),
                c.name,
                "a visit before baseline (negative hours)",
                "hours count from the period's first dose: 0 is baseline",
                shown,
            )
            low[:] = False
        self.add(
            np.flatnonzero(low | high),
            c.name,
            f"out of range [{_num(c.minimum)}, {_num(c.maximum)}]",
            _range_fix(c, number),
            shown,
        )
        return number.where(~(low | high))

    def unique_key(self) -> None:
        key = [k for k in self.table.key if k in self.parsed]
        if len(key) < len(self.table.key):
            return
        frame = pd.DataFrame({k: self.parsed[k] for k in key})
        duplicated = frame.duplicated(keep="first") & frame.notna().all(axis=1)
        first = frame.drop_duplicates(keep="first").reset_index().set_index(key)["index"]
        what = "duplicate patient" if key == [ID] else f"duplicate {' + '.join(key)}"
        for i in np.flatnonzero(duplicated):
            j = first.loc[tuple(frame.iloc[i])] if len(key) > 1 else first.loc[frame.iloc[i, 0]]
            self.add(
                [i],
                key[-1],
                f"{what} (also row {int(j) + 1})",
                "give each one row, or drop the repeat",
                self.raw[key[-1]].to_dict(),
            )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.parsed, index=self.raw.index)


def _num(x: float | None) -> str:
    return "-inf" if x is None else f"{x:g}"


def _number_fix(c: Column) -> str:
    unit = f" in {c.unit}" if c.unit else ""
    return f"give a number{unit}, with a decimal point and no unit or text"


def _range_fix(c: Column, number: pd.Series) -> str:
    """How to fix an out-of-range value, naming the likely unit mistake where there is one."""
    hints = {
        "height_cm": "height is in centimetres (a value in metres is 100 times too small)",
        "bmi": "BMI is in kg/m2 (weight in kg or a height in cm gives far larger numbers)",
        "age": "age in years at baseline (adults only)",
        "baseline_madrs": "MADRS points; a baseline on another scale goes in baseline_score "
        "with its scale",
    }
    unit = f" (in {c.unit})" if c.unit else ""
    return hints.get(c.name, f"check the value and its unit{unit}")
