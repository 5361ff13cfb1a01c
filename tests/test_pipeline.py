"""The real pipeline: `dvc repro` in a temporary git repo on a tiny params file."""

from __future__ import annotations

import pytest

from tests.helpers import BIN, make_project, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repro(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("dvc"), git=True)
    first = run([str(BIN / "dvc"), "repro"], project)
    return project, first


def test_dvc_repro_builds_the_cohort(repro) -> None:
    project, _ = repro
    for name in ("patients", "visits", "outcomes", "truth", "effects"):
        assert (project / "data" / "synthetic" / f"{name}.parquet").exists()
    assert (project / "dvc.lock").exists()


def test_second_repro_does_nothing(repro) -> None:
    project, _ = repro
    second = run([str(BIN / "dvc"), "repro"], project)
    assert "didn't change, skipping" in second.stdout
    assert "Running stage" not in second.stdout
    status = run([str(BIN / "dvc"), "status"], project)
    assert "up to date" in status.stdout


def test_changing_a_param_reruns_generate(repro) -> None:
    project, _ = repro
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("seed: 7", "seed: 8"))
    third = run([str(BIN / "dvc"), "repro"], project)
    assert "Running stage 'generate'" in third.stdout
