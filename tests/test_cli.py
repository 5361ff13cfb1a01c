"""The real CLI: clear one-line errors, non-zero exits, nothing partial left behind."""

from __future__ import annotations

import copy

from tests.helpers import TINY_PARAMS, cli, make_project


def test_generate_writes_the_cohort(tmp_path) -> None:
    project = make_project(tmp_path)
    result = cli(["generate"], project)
    assert result.returncode == 0, result.stderr
    out = project / "data" / "synthetic"
    assert {p.name for p in out.iterdir()} >= {
        "patients.parquet",
        "visits.parquet",
        "truth.parquet",
    }


def test_bad_params_exit_non_zero_with_one_line_and_no_output(tmp_path) -> None:
    params = copy.deepcopy(TINY_PARAMS)
    params["generate"]["seeed"] = 3
    project = make_project(tmp_path, params)
    result = cli(["generate"], project)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "generate.seeed: unknown key" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (project / "data").exists()


def test_bad_trial_spec_is_reported_with_its_file(tmp_path) -> None:
    project = make_project(tmp_path)
    spec = project / "configs" / "trials" / "zarate2006.yaml"
    spec.write_text(spec.read_text().replace("dose: 0.5", "dose: -0.5"))
    result = cli(["generate"], project)
    assert result.returncode == 1
    assert "zarate2006.yaml: arms.0.dose" in result.stderr.replace("\n", "")
    assert not (project / "data").exists()


def test_trials_lists_the_presets(tmp_path) -> None:
    result = cli(["trials"], make_project(tmp_path))
    assert result.returncode == 0
    for name in ("berman2000", "zarate2006", "feder2014", "sustain1", "realworld"):
        assert name in result.stdout


def test_python_dash_m_shows_help(tmp_path) -> None:
    result = cli(["--help"], tmp_path)
    assert (
        result.returncode == 0
        and "generate" in result.stdout
        and "Research use only" in result.stdout
    )


def test_an_error_quoting_brackets_is_printed_not_parsed(tmp_path) -> None:
    params = copy.deepcopy(TINY_PARAMS)
    params["generate"]["[/x]"] = 2
    project = make_project(tmp_path, params)
    result = cli(["generate"], project)
    assert result.returncode == 1
    assert "[/x]" in result.stderr and "Traceback" not in result.stderr
