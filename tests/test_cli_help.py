"""The CLI as a user reads it: --help of every command (choices listed, flags without a value
placeholder), the trial presets with their dose units, and the one-line error of `score` run
outside a project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketapredict.cli import app
from tests.conftest import ROOT

NAMES = sorted(
    c.name or c.callback.__name__.replace("_", "-")  # type: ignore[union-attr]
    for c in app.registered_commands
)


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("command", ["", *NAMES])
def test_flags_show_no_value_placeholder(command: str) -> None:
    text = _help(*([command] if command else []))
    assert "<bool>" not in text and "BOOLEAN" not in text
    assert "--help" in text


def test_choice_options_list_their_values() -> None:
    score = _help("score")
    for choices in ("<responder|relapse|both|benefit>", "<fail|skip>", "<flag|fail>",
                    "<csv|parquet>", "<saline|midazolam>"):  # fmt: skip
        assert choices in score
    assert "<list[str]>" not in score  # --model-uri takes a folder or a URI, one at a time
    assert "<responder|relapse|benefit>" in _help("train")
    assert "--verbose" in _help() and "--recalibrate" in _help("validate")


def test_trials_show_doses_with_their_units() -> None:
    result = CliRunner().invoke(app, ["trials", "--root", str(ROOT)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert "ketamine: 0.5 mg/kg IV" in rows["zarate2006"]  # one line per arm
    assert "esketamine 84 mg intranasal, 20 sessions every" in rows["sustain1"]
    assert "midazolam: 0.045 mg/kg IV" in result.stdout
    assert "saline: IV" in result.stdout  # a placebo has no dose


def test_score_outside_a_project_says_to_pass_root_or_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(ROOT / "docs" / "examples" / "patients.csv", tmp_path / "patients.csv")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert not any((p / "params.yaml").exists() for p in (tmp_path, *tmp_path.parents))
    result = CliRunner().invoke(
        app, ["score", "patients.csv", "-o", "scores.csv"], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert "no ketapredict project here" in errors[0]
    assert "--root ~/ketapredict" in errors[0] and "--model-uri" in errors[0]
    assert not (tmp_path / "scores.csv").exists()
