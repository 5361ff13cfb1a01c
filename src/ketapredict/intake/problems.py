"""A problem with a user's data, and the report that collects them all."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data, and how to fix it."""

    file: str
    row: int | None  # 1-based data row; None: the whole file or column
    column: str | None
    what: str
    fix: str
    value: str | None = None

    def line(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.what}{value}; {self.fix}"


@dataclass
class Report:
    """What a check found: the shape, the problems, notes, and the parsed tables (clean only)."""

    shape: str = ""
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)  # table -> the file it was read from

    @property
    def ok(self) -> bool:
        return not self.problems

    def refuse(self, where: str, data: str) -> None:
        """Raise DataError naming the count and the first problem if there is any: the data
        are then refused whole. `data`: what to pass `ketapredict check` to see them all."""
        if self.problems:
            from ketapredict.errors import DataError

            raise DataError(
                f"{len(self.problems)} problem(s) in {where}, the first: "
                f"{self.problems[0].line()}; see them all with `ketapredict check {data}`"
            )


def write_report(report: Report, path: Path) -> None:
    """Every problem as a CSV row (file, row, column, value, problem, fix), written whole."""
    from ketapredict.io import write_text

    frame = pd.DataFrame(
        [(p.file, p.row, p.column, p.value, p.what, p.fix) for p in report.problems],
        columns=["file", "row", "column", "value", "problem", "fix"],
    )
    write_text(frame.to_csv(index=False), path)
