"""The real pipeline: `dvc repro` in a temporary git repo on a tiny params file."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
import yaml

from tests.helpers import BIN, env, make_project, run

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
        "reports/metrics.json",
        "reports/plots/responder/roc_lightgbm.csv",
        "reports/evaluate/relapse/subgroups.csv",
        "reports/explain/responder/figures/beeswarm.png",
        "reports/explain/truth_recovery.json",
        "reports/model_card.html",
        "data/features/benefit.parquet",
        "reports/train/benefit.json",
        "reports/benefit/metrics.json",
        "reports/benefit/roles.json",
        "reports/benefit/plots/qini_x_learner.csv",
        "reports/benefit/figures/policy_value.png",
        "reports/plan/summary.json",
        "reports/plan/ademp.md",
        "reports/plan/curves/calibration_slope_pooled_literature_logistic.csv",
        "reports/plan/figures/learning_curves_pooled_literature.png",
    ):
        assert (project / path).exists(), path
    assert (project / "dvc.lock").exists() and (project / "mlflow.db").exists()


def test_dvc_metrics_show_reads_the_reports(repro) -> None:
    project, _ = repro
    shown = run([str(BIN / "dvc"), "metrics", "show", "--json"], project).stdout
    assert "share_inside_verified" in shown and "auroc" in shown
    metrics = json.loads((project / "reports" / "metrics.json").read_text())
    for task in ("responder", "relapse"):
        for key in ("auroc", "calibration_slope", "calibration_intercept", "brier"):
            assert isinstance(metrics[task]["test"][key], float), (task, key)
        assert isinstance(metrics[task]["oracle"]["auroc"], float)
    recovery = json.loads((project / "reports" / "explain" / "truth_recovery.json").read_text())
    assert {"spearman", "top5_overlap", "noise_share"} <= set(recovery["responder"])
    benefit = metrics["benefit"]["learners"]
    assert benefit["oracle"]["pehe"] == 0 and benefit["oracle"]["regret"] == 0
    assert {"x_learner", "dr_learner", "causal_forest", "prognostic"} <= set(benefit)
    # a champion, or the note saying why there is none
    exported = project / "models" / "benefit"
    assert (exported / "MLmodel").exists() or (exported / "NO_CHAMPION.txt").exists()


def test_dvc_plots_show_renders(repro, tmp_path) -> None:
    project, _ = repro
    run([str(BIN / "dvc"), "plots", "show", "-o", str(tmp_path / "plots")], project)
    page = (tmp_path / "plots" / "index.html").read_text()
    assert "ROC, responder" in page and "Decision curve, relapse" in page
    assert "Qini, benefit" in page and "Learning curve: calibration slope" in page


def test_model_card_is_self_contained(repro) -> None:
    project, _ = repro
    page = (project / "reports" / "model_card.html").read_text()
    assert "Research use only" in page and "data:image/png;base64," in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mlflow_server_serves_shap_figures_and_model_card(repro) -> None:
    project, _ = repro
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{project / 'mlflow.db'}",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=project, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.5)
        run_id = yaml.safe_load((project / "models" / "responder" / "MLmodel").read_text())[
            "run_id"
        ]
        listed = {}
        for folder in ("explain", "model_card", "evaluation"):
            query = urllib.parse.urlencode({"run_id": run_id, "path": folder})
            with urllib.request.urlopen(
                f"{base}/api/2.0/mlflow/artifacts/list?{query}", timeout=10
            ) as r:
                listed[folder] = {f["path"] for f in json.loads(r.read()).get("files", [])}
        assert "explain/beeswarm.png" in listed["explain"]
        assert "explain/importance.png" in listed["explain"]
        assert "model_card/model_card.html" in listed["model_card"]
        assert "evaluation/calibration.png" in listed["evaluation"]
    finally:
        server.terminate()
        server.wait(timeout=30)


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
    # the truth's relapse risk is for the label's horizon: the generator reads it too
    assert "Running stage 'generate'" in third.stdout
    assert "Running stage 'replicate'" not in third.stdout
