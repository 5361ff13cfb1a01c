"""The train stage on a tiny cohort, against a real SQLite MLflow in a temp directory: the
registry, the champion decision, runs and logged models; the test split decides nothing; the
same params give the same model. One training (`trained`) serves every test that only reads
what it made, and is the first of the two the test-split check compares."""

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


def _params(gate: dict | None = None) -> dict:
    params = copy.deepcopy(TINY_PARAMS)
    params["train"]["gate"].update(gate or {})
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


@pytest.fixture(scope="module")
def trained(generated, tmp_path_factory):
    """One responder training in a fresh copy, for tests that only read what it made."""
    project = tmp_path_factory.mktemp("trained") / "project"
    shutil.copytree(generated, project)
    return project, _train(project, "responder")


def test_the_champion_alias_follows_the_gate_and_the_comparison(project) -> None:
    """A failing first version takes no alias and exports nothing; a passing one does; the
    same procedure again is compared with the champion's own out-of-fold predictions on every
    training row, ties exactly and is crowned; a failing later version leaves the alias.
    (Which of two different models wins is the pure policy's test, tests/test_champion.py.)"""
    name = "ketapredict-responder"
    failed = _train(project, "responder", _params(gate={"min_auroc": 0.99}))
    assert failed["version"] == "1" and not failed["crowned"]
    assert "cross-validated AUROC" in failed["reason"]
    assert _champion(project, name) is None
    assert not (project / "models" / "responder").exists()

    passed = _train(project, "responder")
    assert passed["crowned"] and passed["version"] == "2" and passed["comparison"] == {}
    assert _champion(project, name) == "2"
    assert (project / "models" / "responder" / "MLmodel").exists()

    again = _train(project, "responder")
    rows = json.loads((project / "reports" / "train" / "responder.json").read_text())["responder"][
        "rows"
    ]
    compared = again["comparison"]
    assert compared["rows"] == rows["train"] and compared["note"] == ""
    assert compared["auroc"] == compared["champion_auroc"]
    assert again["crowned"] and again["previous_champion"] == "2"
    assert _champion(project, name) == again["version"] == "3"
    _assert_markers_follow_the_alias(project, name, champion="3", former="2")

    strict = _train(project, "responder", _params(gate={"calibration_slope": [4.9, 5.0]}))
    assert not strict["crowned"] and "calibration slope" in strict["reason"]
    assert _champion(project, name) == "3", "a failing version must not take the alias"
    assert load_model(project / "models" / "responder").meta["task"] == "responder"


def _assert_markers_follow_the_alias(project, name: str, *, champion: str, former: str) -> None:
    """Only the champion's version and run say champion; the former's say when it moved."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    runs = {}
    for version in (champion, former):
        mv = client.get_model_version(name, version)
        runs[version] = client.get_run(mv.run_id).data.tags
        if version == former:
            moved = f"champion until version {champion} took the alias"
            assert mv.tags["champion_decision"] == moved
    assert runs[champion]["champion"] == "true"
    assert runs[former]["champion"] == "false"
    assert runs[former]["champion_reason"].startswith("champion until version")


def test_the_test_split_decides_nothing(trained, tmp_path) -> None:
    """Scramble every test row (labels, weights and characteristics): the model, the
    cross-validated scores, the gate and the champion decision are unchanged to the last
    bit, so no test row was read before the final scoring in evaluate."""
    first_project, first = trained
    project = tmp_path / "project"
    shutil.copytree(first_project, project)
    model_file = Path("data", "train", "responder", "lightgbm", "booster.txt")
    report_file = Path("reports", "train", "responder.json")
    path = project / "data" / "features" / "responder.parquet"
    table = pd.read_parquet(path)
    test = table["split"] == "test"
    rng = np.random.default_rng(0)
    for column in ("y", "age", "bmi", "baseline_madrs", "p_true"):
        table.loc[test, column] = rng.permutation(table.loc[test, column].to_numpy())
    table.loc[test, "weight"] = 3.0
    table.to_parquet(path)
    (project / "mlflow.db").unlink()  # the same decision must be taken again from scratch
    shutil.rmtree(project / "models")
    shutil.rmtree(project / "mlartifacts")
    second = _train(project, "responder")
    assert (project / model_file).read_text() == (first_project / model_file).read_text()
    assert json.loads((project / report_file).read_text()) == json.loads(
        (first_project / report_file).read_text()
    )
    for key in ("crowned", "reason", "comparison", "decided_on"):
        assert second[key] == first[key]
    assert "the test split was not read" in second["decided_on"]


def test_the_readmes_mlflow_models_predict_example_runs(trained, tmp_path) -> None:
    """README, Models: `mlflow models predict` on docs/examples/patients.csv (patient_id and
    19 of the responder inputs, the optional others left out) returns a probability each."""
    from tests.conftest import ROOT

    project, _ = trained
    readme = (ROOT / "README.md").read_text()
    assert "-i docs/examples/patients.csv -t csv --env-manager local" in readme
    uri = "models:/ketapredict-responder@champion"
    inputs = tmp_path / "patients.csv"  # the helper writes its output beside the input
    shutil.copy(ROOT / "docs" / "examples" / "patients.csv", inputs)
    predictions = mlflow_models_predict(project, inputs, uri)
    assert list(predictions.columns) == ["p_response"] and len(predictions) == 3
    assert predictions["p_response"].between(0, 1).all()


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
    assert {"cv_auroc", "cv_brier", "cv_calibration_slope", "cv_baseline_auroc",
            "cv_oracle_auroc"} <= set(run.data.metrics)  # fmt: skip
    assert not any(k.startswith("test_") for k in run.data.metrics), "train must not score test"
    # named by what they are, and each metric against the model it measures
    assert run.data.tags["mlflow.runName"] == f"responder · train · v{registry['version']}"
    assert "Decision:" in run.data.tags["mlflow.note.content"]
    models = {m.name: m for m in client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
    )}  # fmt: skip
    assert set(models) == {"responder_lightgbm", "responder_logistic_baseline"}
    assert registry["model_id"] == models["responder_lightgbm"].model_id
    measured = {m.key for m in models["responder_lightgbm"].metrics}
    assert "cv_auroc" in measured and "cv_baseline_auroc" not in measured
    assert {m.key for m in models["responder_logistic_baseline"].metrics} >= {"cv_baseline_auroc"}
    version = client.get_model_version("ketapredict-responder", registry["version"])
    assert "model_card/model_card.html" in version.description
    assert client.get_registered_model("ketapredict-responder").description
    # the params the stage reads, as dvc.yaml lists them: its section and the task's label
    assert {k for k in run.data.params if k.startswith("features.")} == {
        "features.responder_label.visit",
        "features.responder_label.threshold",
    }
    assert run.data.params["features.responder_label.visit"] == "24h"
    assert run.data.params["train.cv_folds"] == str(TINY_PARAMS["train"]["cv_folds"])
    assert run.data.params["chosen.n_trees"] == str(
        load_model(project / "data" / "train" / "responder" / "lightgbm").meta["trees"]
    )
    assert run.data.tags["model_version"] == "1" and run.data.tags["champion"] == "true"
    assert "features_sha256" in run.data.tags and "champion_reason" in run.data.tags
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"features.json", "label.json", "champion_decision.json"} <= artifacts
    experiment = client.get_experiment_by_name("ketapredict")
    logged = client.search_logged_models([experiment.experiment_id])
    assert {m.name for m in logged} == {"responder_lightgbm", "responder_logistic_baseline"}
    version = client.get_model_version("ketapredict-responder", "1")
    assert version.tags["champion_decision"] == registry["reason"]


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
                   if m.name == "responder_logistic_baseline"
                   and m.source_run_id == run.info.run_id]  # fmt: skip
    folder = Path(urlsplit(baseline.artifact_location).path)
    sklearn = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["sklearn"]
    assert sklearn["skops_trusted_types"] == ["numpy.dtype"]  # the fixed list, not the file's


def test_same_seed_gives_the_same_model(project) -> None:
    from ketapredict.config import load_params
    from ketapredict.layout import Layout
    from ketapredict.stages import train as stage

    params = load_params(project / "params.yaml")
    a = stage.fit(Layout(project), "responder", params.train)
    b = stage.fit(Layout(project), "responder", params.train)
    assert a.model.booster.model_to_string() == b.model.booster.model_to_string()
    X = a.train.X
    np.testing.assert_array_equal(a.model.predict_matrix(X), b.model.predict_matrix(X))
    np.testing.assert_array_equal(a.baseline.predict_proba(X), b.baseline.predict_proba(X))
    np.testing.assert_array_equal(a.tuning.oof_proba, b.tuning.oof_proba)


def test_results_do_not_depend_on_the_number_of_workers(project, monkeypatch) -> None:
    from ketapredict.config import load_params
    from ketapredict.layout import Layout
    from ketapredict.stages import train as stage

    params = load_params(project / "params.yaml")
    fits = []
    for workers in (1, 2):
        monkeypatch.setattr(stage, "workers_for", lambda rows, tasks, w=workers: w)
        fits.append(stage.fit(Layout(project), "relapse", params.train))
    one, two = fits
    assert one.model.booster.model_to_string() == two.model.booster.model_to_string()
    assert one.cv == two.cv
    pd.testing.assert_frame_equal(one.tuning.candidates, two.tuning.candidates)
