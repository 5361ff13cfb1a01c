"""Training end to end on a tiny cohort, against a real SQLite MLflow in a temp directory."""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ketapredict.model import load_model
from tests.helpers import TINY_PARAMS, cli, make_project, mlflow_models_predict

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("train"))
    for command in (["generate"], ["features"]):
        result = cli(command, root)
        assert result.returncode == 0, result.stderr
    return root


def _train(project, task: str, gate: dict | None = None, seed: int | None = None):
    params = copy.deepcopy(TINY_PARAMS)
    if gate:
        params["train"]["gate"].update(gate)
    if seed is not None:
        params["train"]["seed"] = seed
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
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
    failed = _train(project, "responder", gate={"min_auroc": 0.99})
    assert not failed["crowned"] and "test AUROC" in failed["reason"]
    assert _champion(project, name) is None
    assert not (project / "models" / "responder").exists()

    passed = _train(project, "responder")
    assert passed["crowned"] and passed["version"] == "2"
    assert _champion(project, name) == "2"
    assert (project / "models" / "responder" / "MLmodel").exists()

    strict = _train(project, "responder", gate={"calibration_slope": [4.9, 5.0]})
    assert not strict["crowned"] and "calibration slope" in strict["reason"]
    assert _champion(project, name) == "2", "a failing version must not take the alias"
    assert load_model(project / "models" / "responder").meta["task"] == "responder"


def test_a_worse_model_does_not_replace_the_champion(project) -> None:
    name = "ketapredict-relapse"
    first = _train(project, "relapse")
    assert first["crowned"]
    # a model that must lose on the same test data: one tree of two leaves
    params = copy.deepcopy(TINY_PARAMS)
    params["train"].update(max_trees=10, early_stopping_rounds=5)
    params["train"]["search"].update(num_leaves=[2], learning_rate=[0.001])
    # a gate it passes, so only the comparison with the champion can stop it
    params["train"]["gate"].update(calibration_slope=[0.01, 1000.0], max_brier=1.0)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = cli(["train", "relapse"], project)
    assert result.returncode == 0, result.stderr
    second = json.loads((project / "data" / "train" / "relapse" / "registry.json").read_text())
    assert not second["crowned"], second
    assert "worse than champion" in second["reason"]
    assert _champion(project, name) == first["version"]


def test_same_seed_gives_the_same_model(project, tmp_path) -> None:
    from ketapredict.config import Paths, load_params
    from ketapredict.stages import train as stage

    (project / "params.yaml").write_text(yaml.safe_dump(TINY_PARAMS, sort_keys=False))
    params = load_params(project / "params.yaml")
    a = stage.fit(Paths(project), "responder", params.train)
    b = stage.fit(Paths(project), "responder", params.train)
    assert a["model"].booster.model_to_string() == b["model"].booster.model_to_string()
    X = a["test"].X
    np.testing.assert_array_equal(a["model"].predict_matrix(X), b["model"].predict_matrix(X))
    np.testing.assert_array_equal(a["baseline"].predict_proba(X), b["baseline"].predict_proba(X))


def test_mlflow_models_predict_returns_probabilities(project, tmp_path) -> None:
    _train(project, "responder")
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


def test_runs_are_tagged_and_carry_metrics_and_models(project) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("ketapredict")
    runs = client.search_runs([experiment.experiment_id], "tags.dvc_stage = 'train_responder'")
    run = runs[0]
    assert {"test_auroc", "cv_auroc", "test_brier", "test_log_loss", "oracle_test_auroc"} <= set(
        run.data.metrics
    )
    assert run.data.params["features.responder_label.visit"] == "24h"
    assert "features_sha256" in run.data.tags and "champion_reason" in run.data.tags
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"features.json", "label.json", "champion_decision.json"} <= artifacts
    logged = client.search_logged_models([experiment.experiment_id])
    assert {m.name for m in logged} >= {"model", "baseline"}
    assert os.environ.get("MLFLOW_TRACKING_URI") is None or sys is not None


def test_champion_is_compared_only_on_test_patients_it_never_saw(project) -> None:
    from ketapredict.config import Paths, load_params
    from ketapredict.model import fingerprint
    from ketapredict.stages import train as stage

    (project / "params.yaml").write_text(yaml.safe_dump(TINY_PARAMS, sort_keys=False))
    result = stage.fit(Paths(project), "relapse", load_params(project / "params.yaml").train)
    champion = result["model"]
    test_rows = len(result["test"].y)
    champion.seen = fingerprint(result["test"].X.iloc[:30])
    assert stage._compare(result, champion)["rows"] == test_rows - 30
    champion.seen = fingerprint(result["train"].X)
    assert stage._compare(result, champion)["rows"] == test_rows


def test_logged_models_name_no_absolute_project_path_and_trust_fixed_types(project) -> None:
    from urllib.parse import urlsplit

    from mlflow import MlflowClient

    _train(project, "responder")
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
