"""runs.py against a real MLflow with a SQLite store in a temp dir."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from ketapredict.contract import EXPERIMENT
from ketapredict.errors import TrackingError
from ketapredict.tracking import registry, runs
from ketapredict.tracking.store import HOST_TAG, PID_TAG, URI_ENV
from tests.test_processes import dead_pid
from tests.tracking.conftest import client

PARAMS = {
    "generate": {"seed": 7, "n_patients": 120, "trial": {"design": "crossover"}},
    "train": {"features": ["age", "dose_mg_kg"], "lr": 0.05},
}


def test_env_uri_wins_for_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    root.mkdir()
    elsewhere = f"sqlite:///{tmp_path}/team.db"
    monkeypatch.setenv(URI_ENV, elsewhere)

    with runs.start_run(root=root, stage="train", params={}) as run:
        pass

    assert MlflowClient(tracking_uri=elsewhere).get_run(run.info.run_id).info.status == "FINISHED"
    assert not (root / "mlflow.db").exists()
    assert os.environ[URI_ENV] == elsewhere


def test_flatten_params_dots_nesting_jsons_lists_and_truncates() -> None:
    flat = runs.flatten_params(
        {**PARAMS, "empty": {}, "flag": True, "note": None, "long": "x" * 7000}
    )
    assert flat["generate.seed"] == "7"
    assert flat["generate.trial.design"] == "crossover"
    assert json.loads(flat["train.features"]) == ["age", "dose_mg_kg"]
    assert flat["empty"] == "{}"
    assert (flat["flag"], flat["note"]) == ("True", "None")
    assert flat["long"] == "x" * 6000
    assert "generate" not in flat


def test_run_lands_in_experiment_with_commit_stage_and_params(repo: tuple[Path, str]) -> None:
    root, sha = repo
    with runs.start_run(
        root=root, stage="generate", params=PARAMS, run_name="gen", tags={"owner": "t"}
    ) as run:
        run_id = run.info.run_id

    stored = client(root).get_run(run_id)
    experiment = client(root).get_experiment(stored.info.experiment_id)
    assert experiment.name == EXPERIMENT == "ketapredict"
    assert experiment.artifact_location == (root.resolve() / "mlartifacts").as_uri()
    assert stored.data.tags["git_commit"] == sha
    assert stored.data.tags["dvc_stage"] == "generate"
    assert stored.data.tags["owner"] == "t"
    assert stored.data.tags[PID_TAG] == str(os.getpid())
    assert stored.info.run_name == "gen"
    assert stored.info.status == "FINISHED"
    assert stored.data.params["generate.seed"] == "7"
    assert stored.data.params["generate.trial.design"] == "crossover"
    assert json.loads(stored.data.params["train.features"]) == ["age", "dose_mg_kg"]


def test_a_resumed_run_gets_the_later_stage_and_its_commit(repo: tuple[Path, str]) -> None:
    root, sha = repo
    with runs.start_run(root=root, stage="train_responder", params={}) as run:
        pass
    with runs.resume_run(root=root, run_id=run.info.run_id, stage="evaluate"):
        runs.log_metrics({"eval_auroc": 0.7})
    stored = client(root).get_run(run.info.run_id)
    assert stored.data.tags["evaluate_git_commit"] == sha
    assert stored.data.metrics["eval_auroc"] == 0.7
    assert stored.info.status == "FINISHED"


def test_runs_for_different_roots_do_not_mix(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    with runs.start_run(root=first, stage="train", params={}) as run_a:
        pass
    assert URI_ENV not in os.environ  # mlflow.set_tracking_uri writes it; we undo it
    with runs.start_run(root=second, stage="train", params={}) as run_b:
        pass

    runs_in_second = {r.info.run_id for r in client(second).search_runs(["1"])}
    assert runs_in_second == {run_b.info.run_id}
    assert client(first).get_run(run_a.info.run_id).info.status == "FINISHED"


def test_metrics_skip_none_and_nan(tmp_path: Path) -> None:
    with runs.start_run(root=tmp_path, stage="evaluate", params={}) as run:
        kept = runs.log_metrics({"auc": 0.81, "brier": float("nan"), "ece": None}, step=2)

    assert kept == {"auc": 0.81}
    history = client(tmp_path).get_metric_history(run.info.run_id, "auc")
    assert [(m.value, m.step) for m in history] == [(0.81, 2)]
    assert set(client(tmp_path).get_run(run.info.run_id).data.metrics) == {"auc"}


def test_artifacts_are_retrievable(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    source = tmp_path / "table.csv"
    source.write_text("a,b\n1,2\n")
    fig = Figure()
    fig.add_subplot().plot([0, 1], [0, 1])
    with runs.start_run(root=tmp_path, stage="report", params={}) as run:
        runs.log_dict_artifact({"auc": 0.8, "n": [1, 2]}, "metrics/summary.json")
        runs.log_text_artifact("hello card", "card.txt")
        runs.log_file_artifact(source, "tables")
        runs.log_figure(fig, "plots/roc.png")

    store, run_id, out = client(tmp_path), run.info.run_id, tmp_path / "out"
    summary = store.download_artifacts(run_id, "metrics/summary.json", str(out))
    assert json.loads(Path(summary).read_text()) == {"auc": 0.8, "n": [1, 2]}
    assert Path(store.download_artifacts(run_id, "card.txt", str(out))).read_text() == (
        "hello card"
    )
    assert [a.path for a in store.list_artifacts(run_id, "tables")] == ["tables/table.csv"]
    assert [a.path for a in store.list_artifacts(run_id, "plots")] == ["plots/roc.png"]
    assert (tmp_path / "mlartifacts").is_dir()


@pytest.mark.parametrize("kind", ["sqlite_under_a_file", "unknown_scheme"])
def test_broken_tracking_uri_raises_tracking_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # A missing folder is no failure: MLflow creates it (as root even at /), so use a file.
    (tmp_path / "afile").write_text("")
    broken = {
        "sqlite_under_a_file": f"sqlite:///{tmp_path}/afile/x/y.db",
        "unknown_scheme": "bogus://nowhere",
    }[kind]
    monkeypatch.setenv(URI_ENV, broken)

    with (
        pytest.raises(TrackingError, match=URI_ENV) as caught,
        runs.start_run(root=tmp_path, stage="train", params={"a": 1}),
    ):
        pytest.fail("the block must not run")

    assert "\n" not in str(caught.value)
    assert os.environ[URI_ENV] == broken


def test_block_errors_propagate_and_mark_run_failed(tmp_path: Path) -> None:
    with (
        pytest.raises(ValueError, match="boom"),
        runs.start_run(root=tmp_path, stage="train", params={}) as run,
    ):
        raise ValueError("boom")

    assert mlflow.active_run() is None
    assert client(tmp_path).get_run(run.info.run_id).info.status == "FAILED"


def test_helpers_outside_a_run_raise_instead_of_starting_one() -> None:
    with pytest.raises(TrackingError, match="no active MLflow run"):
        runs.log_metrics({"auc": 0.5})
    with pytest.raises(TrackingError, match="no active MLflow run"):
        runs.log_text_artifact("x", "x.txt")


def test_deleted_experiment_raises_with_a_fix(tmp_path: Path) -> None:
    with runs.start_run(root=tmp_path, stage="train", params={}) as run:
        pass
    client(tmp_path).delete_experiment(run.info.experiment_id)

    with (
        pytest.raises(TrackingError, match="is deleted; restore it"),
        runs.start_run(root=tmp_path, stage="train", params={}),
    ):
        pytest.fail("the block must not run")


def test_runs_left_open_by_a_killed_process_are_failed_and_their_versions_undecided(
    tmp_path: Path,
) -> None:
    store = client(tmp_path)
    with runs.start_run(root=tmp_path, stage="train_responder", params={}) as first:
        pass
    experiment = first.info.experiment_id
    host = socket.gethostname()
    owners = {
        "killed": {PID_TAG: str(dead_pid()), HOST_TAG: host},
        "alive": {PID_TAG: str(os.getpid()), HOST_TAG: host},
        "elsewhere": {PID_TAG: str(dead_pid()), HOST_TAG: "another-host"},
    }
    ids = {k: store.create_run(experiment, tags=tags).info.run_id for k, tags in owners.items()}
    store.create_registered_model("ketapredict-responder")
    killed_version = store.create_model_version(
        "ketapredict-responder", "file:///nowhere", run_id=ids["killed"]
    )
    with runs.start_run(root=tmp_path, stage="train_responder", params={}):
        pass
    status = {k: store.get_run(run_id).info.status for k, run_id in ids.items()}
    assert status == {"killed": "FAILED", "alive": "RUNNING", "elsewhere": "RUNNING"}
    version = store.get_model_version("ketapredict-responder", killed_version.version)
    assert version.tags[registry.DECISION_TAG] == "undecided (training interrupted)"
    for run_id in (ids["alive"], ids["elsewhere"]):
        store.set_terminated(run_id, "FINISHED")
