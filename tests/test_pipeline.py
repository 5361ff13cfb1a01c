"""The real pipeline: `dvc repro` in a temporary git repo on a tiny params file."""

from __future__ import annotations

import pytest
import yaml

from tests.helpers import BIN, make_project, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repro(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("dvc"), git=True)
    first = run([str(BIN / "dvc"), "repro"], project)
    return project, first


def test_dvc_repro_runs_every_stage(repro) -> None:
    project, _ = repro
    for name in ("patients", "visits", "outcomes", "truth", "effects"):
        assert (project / "data" / "synthetic" / f"{name}.parquet").exists()
    for path in (
        "reports/trials/replication.json",
        "reports/trials/replication.html",
        "data/features/responder.parquet",
        "models/responder/MLmodel",
        "models/relapse/MLmodel",
        "reports/train/responder.json",
    ):
        assert (project / path).exists(), path
    assert (project / "dvc.lock").exists() and (project / "mlflow.db").exists()


def test_dvc_metrics_show_reads_the_reports(repro) -> None:
    project, _ = repro
    shown = run([str(BIN / "dvc"), "metrics", "show", "--json"], project).stdout
    assert "share_inside_verified" in shown and "auroc" in shown


def test_second_repro_does_nothing(repro) -> None:
    project, _ = repro
    second = run([str(BIN / "dvc"), "repro"], project)
    assert "didn't change, skipping" in second.stdout
    assert "Running stage" not in second.stdout
    status = run([str(BIN / "dvc"), "status"], project)
    assert "up to date" in status.stdout


def test_changing_a_param_reruns_only_what_reads_it(repro) -> None:
    project, _ = repro
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["features"]["relapse_horizon_days"] = 21
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    third = run([str(BIN / "dvc"), "repro"], project)
    assert "Running stage 'features'" in third.stdout
    assert "Running stage 'train_relapse'" in third.stdout
    assert "Running stage 'generate'" not in third.stdout
    assert "Running stage 'replicate'" not in third.stdout
