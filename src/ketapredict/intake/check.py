"""Check a user's cohort against the input contract and report every problem at once.

Each problem names the file, the row (1 = the first data row; line 2 of a CSV file), the
column, the value and how to fix it. Nothing is guessed: a value that does not parse, lies
out of range or breaks a rule between columns or tables is a problem, never silently
dropped or coerced. What is not a problem but changes what the pipeline does (a treated
period without a 24-hour rating: no label, left out) is counted in the notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ketapredict.contract import ID
from ketapredict.intake.files import find_files, read_text, shape_of
from ketapredict.intake.problems import Problem, Report, write_report
from ketapredict.intake.rules import across, row_rules
from ketapredict.intake.schema import TABLES
from ketapredict.intake.table import CheckedTable

__all__ = ["Problem", "Report", "check", "write_report"]


def check(data: Sequence[Path], *, id_column: str = ID) -> Report:
    """Check the files (or folders) of one cohort; the report holds every problem found."""
    report = Report()
    files, problems = find_files(data)
    report.problems += problems
    shape, problems = shape_of(files)
    report.problems += problems
    report.shape = shape
    if not shape:
        return report
    checked: dict[str, CheckedTable] = {}
    for name, path in files.items():
        try:
            frame = read_text(path)
        except Exception as exc:  # any reader error is the file's problem, said in one line
            report.problems.append(
                Problem(
                    str(path),
                    None,
                    None,
                    f"cannot be read ({exc})",
                    "save it again as UTF-8 CSV or as Parquet",
                )
            )
            continue
        if frame.empty:
            report.problems.append(Problem(str(path), None, None, "no rows", "add the data"))
            continue
        t = CheckedTable(TABLES[name], path, frame, id_column)
        t.columns()
        t.values()
        t.unique_key()
        checked[name] = t
    for t in checked.values():
        row_rules(t)
    if shape == "three_tables" and len(checked) == 3:
        across(checked, report)
    for t in checked.values():
        report.problems += t.problems
    if report.ok:
        report.tables = {name: t.frame() for name, t in checked.items()}
        report.files = files
    return report
