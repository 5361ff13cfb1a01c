"""tracking.py against a real MLflow with a SQLite store in a temp dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from ketapredict import tracking
from ketapredict.errors import TrackingError

PARAMS = {
    "generate": {"seed": 7, "n_patients": 120, "trial": {"design": "crossover"}},
    "train": {"features": ["age", "dose_mg_kg"], "lr": 0.05},
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No env URI, and cwd in the temp dir: any store MLflow picks by default lands there."""
    monkeypatch.delenv(tracking.URI_ENV, raising=False)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.chdir(tmp_path)
    yield
    leaked = mlflow.active_run()
    if leaked is not None:  # end it here, or MLflow's atexit hook would write to the real cwd
        mlflow.end_run("KILLED")
    assert leaked is None, "a run was left active"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    """A git repo with one empty commit, and that commit's sha."""
    root = tmp_path / "repo"
    root.mkdir()
    git = ["git", "-c", "user.email=a@b", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], cwd=root, check=True)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()
    return root, sha


def _client(root: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking.tracking_uri(root))


def test_default_uri_is_sqlite_db_under_root(tmp_path: Path) -> None:
    assert tracking.tracking_uri(tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"


def test_env_uri_wins_for_uri_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    root.mkdir()
    elsewhere = f"sqlite:///{tmp_path}/team.db"
    monkeypatch.setenv(tracking.URI_ENV, elsewhere)
    assert tracking.tracking_uri(root) == elsewhere

    with tracking.start_run(root=root, stage="train", params={}) as run:
        pass

    assert MlflowClient(tracking_uri=elsewhere).get_run(run.info.run_id).info.status == "FINISHED"
    assert not (root / "mlflow.db").exists()
    assert os.environ[tracking.URI_ENV] == elsewhere


def test_flatten_params_dots_nesting_jsons_lists_and_truncates() -> None:
    flat = tracking.flatten_params(
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
    with tracking.start_run(
        root=root, stage="generate", params=PARAMS, run_name="gen", tags={"owner": "t"}
    ) as run:
        run_id = run.info.run_id

    client = _client(root)
    stored = client.get_run(run_id)
    experiment = client.get_experiment(stored.info.experiment_id)
    assert experiment.name == tracking.EXPERIMENT == "ketapredict"
    assert experiment.artifact_location == (root.resolve() / "mlartifacts").as_uri()
    assert stored.data.tags["git_commit"] == sha
    assert stored.data.tags["dvc_stage"] == "generate"
    assert stored.data.tags["owner"] == "t"
    assert stored.info.run_name == "gen"
    assert stored.info.status == "FINISHED"
    assert stored.data.params["generate.seed"] == "7"
    assert stored.data.params["generate.trial.design"] == "crossover"
    assert json.loads(stored.data.params["train.features"]) == ["age", "dose_mg_kg"]


def test_git_commit_is_none_outside_a_repo(tmp_path: Path, repo: tuple[Path, str]) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    assert tracking.git_commit(outside) is None
    assert tracking.git_commit(repo[0]) == repo[1]


def test_runs_for_different_roots_do_not_mix(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    with tracking.start_run(root=first, stage="train", params={}) as run_a:
        pass
    assert tracking.URI_ENV not in os.environ  # mlflow.set_tracking_uri writes it; we undo it
    with tracking.start_run(root=second, stage="train", params={}) as run_b:
        pass

    runs_in_second = {r.info.run_id for r in _client(second).search_runs(["1"])}
    assert runs_in_second == {run_b.info.run_id}
    assert _client(first).get_run(run_a.info.run_id).info.status == "FINISHED"


def test_metrics_skip_none_and_nan(tmp_path: Path) -> None:
    with tracking.start_run(root=tmp_path, stage="evaluate", params={}) as run:
        kept = tracking.log_metrics({"auc": 0.81, "brier": float("nan"), "ece": None}, step=2)

    assert kept == {"auc": 0.81}
    history = _client(tmp_path).get_metric_history(run.info.run_id, "auc")
    assert [(m.value, m.step) for m in history] == [(0.81, 2)]
    assert set(_client(tmp_path).get_run(run.info.run_id).data.metrics) == {"auc"}


def test_artifacts_are_retrievable(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    source = tmp_path / "table.csv"
    source.write_text("a,b\n1,2\n")
    fig = Figure()
    fig.add_subplot().plot([0, 1], [0, 1])
    with tracking.start_run(root=tmp_path, stage="report", params={}) as run:
        tracking.log_dict_artifact({"auc": 0.8, "n": [1, 2]}, "metrics/summary.json")
        tracking.log_text_artifact("hello card", "card.txt")
        tracking.log_file_artifact(source, "tables")
        tracking.log_figure(fig, "plots/roc.png")

    client, run_id, out = _client(tmp_path), run.info.run_id, tmp_path / "out"
    summary = client.download_artifacts(run_id, "metrics/summary.json", str(out))
    assert json.loads(Path(summary).read_text()) == {"auc": 0.8, "n": [1, 2]}
    assert Path(client.download_artifacts(run_id, "card.txt", str(out))).read_text() == (
        "hello card"
    )
    assert [a.path for a in client.list_artifacts(run_id, "tables")] == ["tables/table.csv"]
    assert [a.path for a in client.list_artifacts(run_id, "plots")] == ["plots/roc.png"]
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
    monkeypatch.setenv(tracking.URI_ENV, broken)

    with (
        pytest.raises(TrackingError, match=tracking.URI_ENV) as caught,
        tracking.start_run(root=tmp_path, stage="train", params={"a": 1}),
    ):
        pytest.fail("the block must not run")

    assert "\n" not in str(caught.value)
    assert os.environ[tracking.URI_ENV] == broken


def test_block_errors_propagate_and_mark_run_failed(tmp_path: Path) -> None:
    with (
        pytest.raises(ValueError, match="boom"),
        tracking.start_run(root=tmp_path, stage="train", params={}) as run,
    ):
        raise ValueError("boom")

    assert mlflow.active_run() is None
    assert _client(tmp_path).get_run(run.info.run_id).info.status == "FAILED"


def test_helpers_outside_a_run_raise_instead_of_starting_one() -> None:
    with pytest.raises(TrackingError, match="no active MLflow run"):
        tracking.log_metrics({"auc": 0.5})
    with pytest.raises(TrackingError, match="no active MLflow run"):
        tracking.log_text_artifact("x", "x.txt")


def test_deleted_experiment_raises_with_a_fix(tmp_path: Path) -> None:
    with tracking.start_run(root=tmp_path, stage="train", params={}) as run:
        pass
    _client(tmp_path).delete_experiment(run.info.experiment_id)

    with (
        pytest.raises(TrackingError, match="is deleted; restore it"),
        tracking.start_run(root=tmp_path, stage="train", params={}),
    ):
        pytest.fail("the block must not run")


def test_import_is_lazy_and_side_effect_free() -> None:
    code = (
        "import os, sys; import ketapredict.tracking; "
        "assert 'mlflow' not in sys.modules; "
        "assert 'MLFLOW_TRACKING_URI' not in os.environ; "
        "assert 'MLFLOW_DISABLE_TELEMETRY' not in os.environ"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def test_runs_left_open_by_a_killed_process_are_failed_and_their_versions_undecided(
    tmp_path: Path,
) -> None:
    import socket

    from tests.test_processes import dead_pid

    client = _client(tmp_path)
    with tracking.start_run(root=tmp_path, stage="train_responder", params={}) as first:
        assert first.data.tags[tracking.PID_TAG] == str(os.getpid())
    experiment = first.info.experiment_id
    host = socket.gethostname()
    owners = {
        "killed": {tracking.PID_TAG: str(dead_pid()), tracking.HOST_TAG: host},
        "alive": {tracking.PID_TAG: str(os.getpid()), tracking.HOST_TAG: host},
        "elsewhere": {tracking.PID_TAG: str(dead_pid()), tracking.HOST_TAG: "another-host"},
    }
    runs = {k: client.create_run(experiment, tags=tags).info.run_id for k, tags in owners.items()}
    client.create_registered_model("ketapredict-responder")
    killed_version = client.create_model_version(
        "ketapredict-responder", "file:///nowhere", run_id=runs["killed"]
    )
    with tracking.start_run(root=tmp_path, stage="train_responder", params={}):
        pass
    status = {k: client.get_run(run_id).info.status for k, run_id in runs.items()}
    assert status == {"killed": "FAILED", "alive": "RUNNING", "elsewhere": "RUNNING"}
    version = client.get_model_version("ketapredict-responder", killed_version.version)
    assert version.tags[tracking.DECISION_TAG] == "undecided (training interrupted)"
    for run_id in (runs["alive"], runs["elsewhere"]):
        client.set_terminated(run_id, "FINISHED")
