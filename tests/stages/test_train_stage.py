"""Training end to end on a tiny cohort, against a real SQLite MLflow in a temp directory: the
registry, the champion decision, runs and logged models. Each test that trains starts from its
own copy of one generated project, with an empty registry (fixtures in conftest.py)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ketapredict.model import load_model
from tests.helpers import TINY_PARAMS, cli, mlflow_models_predict

pytestmark = pytest.mark.slow


def _params(gate: dict | None = None, seed: int | None = None, **train) -> dict:
    params = copy.deepcopy(TINY_PARAMS)
    params["train"].update(train)
    if gate:
        params["train"]["gate"].update(gate)
    if seed is not None:
        params["train"]["seed"] = seed
    return params


def _train(project, task: str, params: dict | None = None):
    (project / "params.yaml").write_text(yaml.safe_dump(params or TINY_PARAMS, sort_keys=False))
    result = cli(["train", task], project)
    assert result.returncode == 0, result.stderr
    return json.loads((project / "data" / "train" / task / "registry.json").read_text())


def _champion(project, name: str):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    try:
        return str(client.get_model_version_by_alias(name, "champion").version)
    except MlflowException:
        return None


def test_champion_moves_only_when_the_gate_passes(project) -> None:
    name = "ketapredict-responder"
    failed = _train(project, "responder", _params(gate={"min_auroc": 0.99}))
    assert failed["version"] == "1" and not failed["crowned"]
    assert "cross-validated AUROC" in failed["reason"]
    assert _champion(project, name) is None
    assert not (project / "models" / "responder").exists()

    passed = _train(project, "responder")
    assert passed["crowned"] and passed["version"] == "2"
    assert _champion(project, name) == "2"
    assert (project / "models" / "responder" / "MLmodel").exists()

    strict = _train(project, "responder", _params(gate={"calibration_slope": [4.9, 5.0]}))
    assert not strict["crowned"] and "calibration slope" in strict["reason"]
    assert _champion(project, name) == "2", "a failing version must not take the alias"
    assert load_model(project / "models" / "responder").meta["task"] == "responder"


def test_the_champion_is_compared_with_its_own_out_of_fold_predictions(project) -> None:
    """Retraining on the same data: the champion trained on every training row, so its honest
    prediction for each is its own out-of-fold one -- identical to the candidate's, as the
    procedure is deterministic. All rows are compared and the AUROCs tie exactly. (Which of
    two different models wins is the pure policy's test, tests/test_champion.py.)"""
    name = "ketapredict-relapse"
    first = _train(project, "relapse")
    assert first["crowned"] and first["comparison"] == {}
    second = _train(project, "relapse")
    rows = json.loads((project / "reports" / "train" / "relapse.json").read_text())["rows"]
    compared = second["comparison"]
    assert compared["rows"] == rows["train"] and compared["note"] == ""
    assert compared["auroc"] == compared["champion_auroc"]
    assert second["crowned"] and second["previous_champion"] == first["version"]
    assert _champion(project, name) == second["version"]


@pytest.fixture(scope="module")
def trained(generated, tmp_path_factory):
    """One responder training in a fresh copy, for tests that only read what it made."""
    project = tmp_path_factory.mktemp("trained") / "project"
    shutil.copytree(generated, project)
    return project, _train(project, "responder")


def test_mlflow_models_predict_returns_probabilities(trained, tmp_path) -> None:
    project, _ = trained
    rows = pd.read_parquet(project / "data" / "features" / "responder.parquet").head(20)
    from ketapredict.features import raw_columns

    rows[raw_columns("responder")].to_csv(tmp_path / "patients.csv", index=False)
    uri = "models:/ketapredict-responder@champion"
    predictions = mlflow_models_predict(project, tmp_path / "patients.csv", uri)
    assert list(predictions.columns) == ["p_response"]
    p = predictions["p_response"].to_numpy()
    assert len(p) == 20 and np.all((p > 0) & (p < 1)) and len(np.unique(p)) > 5
    model = load_model(project / "models" / "responder")
    np.testing.assert_allclose(p, model.predict_proba(rows), rtol=1e-9)


def test_runs_are_tagged_and_carry_metrics_and_models(trained) -> None:
    from mlflow import MlflowClient

    project, registry = trained
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    run = client.get_run(registry["run_id"])
    assert run.data.tags["dvc_stage"] == "train_responder"
    assert {"cv_auroc", "cv_brier", "cv_calibration_slope", "baseline_cv_auroc",
            "oracle_train_auroc"} <= set(run.data.metrics)  # fmt: skip
    assert not any(k.startswith("test_") for k in run.data.metrics), "train must not score test"
    assert run.data.params["features.responder_label.visit"] == "24h"
    assert run.data.params["chosen.n_trees"] == str(
        load_model(project / "data" / "train" / "responder" / "lightgbm").meta["trees"]
    )
    assert run.data.tags["model_version"] == "1" and run.data.tags["champion"] == "true"
    assert "features_sha256" in run.data.tags and "champion_reason" in run.data.tags
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"features.json", "label.json", "champion_decision.json"} <= artifacts
    experiment = client.get_experiment_by_name("ketapredict")
    logged = client.search_logged_models([experiment.experiment_id])
    assert {m.name for m in logged} == {"model", "baseline"}


def test_logged_models_name_no_absolute_project_path_and_trust_fixed_types(trained) -> None:
    from urllib.parse import urlsplit

    from mlflow import MlflowClient

    project, _ = trained
    spec = yaml.safe_load((project / "models" / "responder" / "MLmodel").read_text())
    artifact = spec["flavors"]["python_function"]["artifacts"]["model"]
    assert artifact["uri"] == "data/train/responder/lightgbm"  # relative to the project
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("ketapredict")
    run = client.search_runs([experiment.experiment_id], "tags.dvc_stage = 'train_responder'")[0]
    assert run.data.tags["ketapredict.pid"].isdigit()  # who held the run open
    (baseline,) = [m for m in client.search_logged_models([experiment.experiment_id])
                   if m.name == "baseline" and m.source_run_id == run.info.run_id]  # fmt: skip
    folder = Path(urlsplit(baseline.artifact_location).path)
    sklearn = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["sklearn"]
    assert sklearn["skops_trusted_types"] == ["numpy.dtype"]  # the fixed list, not the file's
