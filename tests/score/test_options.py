"""What a run is asked: formats, tasks, and the refusals before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketapredict.errors import InputFileError
from ketapredict.score.options import Options, Summary, check, file_format


def test_the_format_is_the_option_else_the_extension() -> None:
    assert file_format(Path("s.PQ"), None, option="--format") == "parquet"
    assert file_format(Path("s.txt"), "csv", option="--format") == "csv"
    with pytest.raises(InputFileError, match=r"unknown extension '\.xlsx'.*--format csv"):
        file_format(Path("s.xlsx"), None, option="--format")


def test_the_files_beside_the_output_follow_its_name() -> None:
    options = Options(Path("p.csv"), Path("out/s.csv"), task="both")
    assert options.tasks == ("responder", "relapse") and Options(Path(), Path()).tasks is None
    assert options.sidecar_path == Path("out/s.csv.json")
    assert options.rejects_path == Path("out/s.rejects.csv")
    assert Options(Path("p.csv"), Path("s.parquet")).sidecar_path is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"chunk_rows": 0}, "--chunk-size 0: use 1 to 5,000,000 rows"),
        ({"output": "p.csv"}, "would overwrite the input"),
        ({"output": "s.csv", "rejects": "s.csv.json"}, "rejects file would overwrite the sidecar"),
    ],
)
def test_one_file_in_two_roles_is_refused(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    (tmp_path / "p.csv").write_text("patient_id\n1\n")
    paths = {k: tmp_path / v for k, v in changes.items() if isinstance(v, str)}
    fields = {"input": tmp_path / "p.csv", "output": tmp_path / "o.csv", **changes, **paths}
    with pytest.raises(InputFileError, match=message):
        check(Options(**fields))  # type: ignore[arg-type]
    check(Options(tmp_path / "p.csv", tmp_path / "o.csv", on_invalid="skip"))


def test_the_summary_line_adds_up() -> None:
    summary = Summary(30, 27, 3, 2, 1, [Path("s.csv"), Path("s.csv.json")])
    assert summary.line() == (
        "rows in 30 = scored 27 + rejected 3; 2 flagged ood; 1 duplicate patient_id; "
        "wrote s.csv, s.csv.json"
    )
