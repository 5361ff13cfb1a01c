"""The real CLI: clear one-line errors, non-zero exits, nothing partial left behind."""

from __future__ import annotations

import copy

import pytest

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
    assert not _outputs(project)


def test_bad_trial_spec_is_reported_with_its_file(tmp_path) -> None:
    project = make_project(tmp_path)
    spec = project / "configs" / "trials" / "zarate2006.yaml"
    spec.write_text(spec.read_text().replace("dose: 0.5", "dose: -0.5"))
    result = cli(["generate"], project)
    assert result.returncode == 1
    assert "zarate2006.yaml: arms.0.dose" in result.stderr.replace("\n", "")
    assert not _outputs(project)


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


def _latin1(path, extra: str = "# Zárate\n") -> None:
    path.write_bytes((path.read_text() + extra).encode("latin-1"))


def _sized(section: str, key: str, value: object):
    def change(project) -> None:
        import yaml

        params = yaml.safe_load((project / "params.yaml").read_text())
        target = params[section]
        for part in key.split(".")[:-1]:
            target = target[part]
        target[key.split(".")[-1]] = value
        (project / "params.yaml").write_text(yaml.safe_dump(params))

    return change


STAGE_INPUTS = {
    "non-UTF-8 params.yaml": (
        ["generate"], lambda p: _latin1(p / "params.yaml"), "params.yaml: not UTF-8 text"
    ),
    "non-UTF-8 trial spec": (
        ["generate"], lambda p: _latin1(p / "configs" / "trials" / "feder2014.yaml"),
        "feder2014.yaml: not UTF-8 text",
    ),
    "a key twice in params.yaml": (
        ["generate"], lambda p: _latin1(p / "params.yaml", "train: {}\n"),
        "key 'train' appears twice",
    ),
    "a billion patients": (
        ["generate"], _sized("generate", "cohorts.realworld", 10**9),
        "1,000,000,530 patients need about 2,794.0 GiB of memory",
    ),
    "a billion-patient population run": (
        ["replicate"], _sized("replicate", "population_size", 10**9),
        "replicate.population_size: 1,000,000,000 patients need about",
    ),
    "seed 10**30": (
        ["train", "responder"], _sized("train", "seed", 10**30),
        "train.seed: Input should be less than or equal to 2147483647",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(STAGE_INPUTS))
def test_stage_inputs_that_used_to_end_in_a_traceback(tmp_path, case: str) -> None:
    command, change, message = STAGE_INPUTS[case]
    project = make_project(tmp_path)
    change(project)
    result = cli(command, project)
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_train_takes_a_known_task_only(tmp_path) -> None:
    project = make_project(tmp_path)
    result = cli(["train", "responders"], project)
    assert result.returncode == 2
    assert "'responders' is not one of 'responder', 'relapse'" in result.stderr
    assert not (project / "mlflow.db").exists() and not (project / "models").exists()


def _outputs(project) -> list:
    """Files a stage wrote under data/ (data/own, the user's cohort folder, comes with it)."""
    return [p for p in (project / "data").rglob("*") if p.is_file() and "own" not in p.parts]
