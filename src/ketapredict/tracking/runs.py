"""MLflow runs: open a stage's run (or reopen a model's training run), log params, metrics,
tags, artifacts and models to it, and close the runs a killed stage left open."""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketapredict import environment
from ketapredict.contract import EXPERIMENT
from ketapredict.errors import TrackingError, redact
from ketapredict.layout import Layout
from ketapredict.tracking.registry import mark_undecided
from ketapredict.tracking.store import (
    HOST_TAG,
    PID_TAG,
    URI_ENV,
    git_commit,
    owner_tags,
    project,
    scoped_tracking_uri,
    tracking_uri,
    translated,
)

if TYPE_CHECKING:
    import mlflow
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

MAX_PARAM_LENGTH = 6000  # mlflow.utils.validation.MAX_PARAM_VAL_LENGTH
# MLflow 3 opens an experiment without this tag in its GenAI view (traces, prompts): ours is
# classic model development (runs, metrics, models)
KIND_TAG, KIND = "mlflow.experimentKind", "custom_model_development"
ABOUT = (
    "Ketamine outcome prediction (ketapredict): a run per pipeline stage. `<task> · train · "
    "v<N>` runs hold a model with its evaluation (`evaluation/`), SHAP explanations "
    "(`explain/`) and model card (`model_card/model_card.html`); `replication` compares the "
    "simulated trials with the published ones. Research use only: not for clinical decisions."
)


def flatten_params(params: Mapping[str, Any], *, prefix: str = "") -> dict[str, str]:
    """Nested params as MLflow wants them: dotted keys, JSON lists, values cut to 6000 chars."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_params(value, prefix=f"{name}."))
        else:
            flat[name] = _param_text(value)[:MAX_PARAM_LENGTH]
    return flat


def _param_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | Mapping):
        return json.dumps(value, default=str)
    return str(value)


@contextmanager
def start_run(
    *,
    root: Path,
    stage: str,
    params: Mapping[str, Any],
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Iterator[mlflow.ActiveRun]:
    """Open a run in experiment ``ketapredict`` tagged with commit and DVC stage, params logged.

    The global MLflow tracking URI (and the ``MLFLOW_TRACKING_URI`` variable MLflow copies it
    into) is set only for the duration of the block, so runs for different roots never mix.
    """
    environment.set_defaults()
    uri = tracking_uri(root)
    use_default = not os.environ.get(URI_ENV)
    artifacts = Layout(Path(root).resolve()).mlartifacts.as_uri() if use_default else None
    run_tags = {**(tags or {}), "dvc_stage": stage, **owner_tags(), **dvc_experiment()}
    commit = git_commit(root)
    if commit is not None:
        run_tags["git_commit"] = commit
    with scoped_tracking_uri(uri), project(root):
        import mlflow

        with translated(f"open a run for stage '{stage}'", uri):
            experiment_id = _experiment_id(uri, artifact_location=artifacts)
            close_orphans(uri, experiment_id)
            run = mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=run_tags)
        status = "FAILED"
        try:
            with translated(f"log params for stage '{stage}'", uri):
                mlflow.log_params(flatten_params(params))
            logger.debug("MLflow run %s in %s", run.info.run_id, redact(uri))
            yield run
            status = "FINISHED"
        finally:
            # Errors raised by the block itself propagate untouched; only closing is ours.
            with translated(f"close the run for stage '{stage}'", uri):
                mlflow.end_run(status)


def dvc_experiment() -> dict[str, str]:
    """Under `dvc exp run`, the DVC experiment's name and baseline commit (DVC sets them in
    the stage's environment), so the MLflow run and `dvc exp show` can be matched."""
    names = {"dvc_experiment": "DVC_EXP_NAME", "dvc_experiment_baseline": "DVC_EXP_BASELINE_REV"}
    return {tag: os.environ[var] for tag, var in names.items() if os.environ.get(var)}


@contextmanager
def resume_run(*, root: Path, run_id: str, stage: str) -> Iterator[mlflow.ActiveRun]:
    """Reopen an existing run (a model's training run) to add a later stage's results to it,
    so the UI shows the model with its evaluation and explanations; tags `<stage>_commit`."""
    environment.set_defaults()
    uri = tracking_uri(root)
    with scoped_tracking_uri(uri):
        import mlflow

        with translated(f"reopen run {run_id} for stage '{stage}'", uri):
            run = mlflow.start_run(run_id=run_id)
            mlflow.set_tags({**owner_tags(), **dvc_experiment()})  # open again, by this process
            commit = git_commit(root)
            if commit is not None:
                mlflow.set_tag(f"{stage}_git_commit", commit)
        try:
            yield run
        finally:
            with translated(f"close run {run_id}", uri):
                mlflow.end_run()


def has_run(*, root: Path, tags: Mapping[str, str]) -> bool:
    """Whether the experiment holds a finished run with all these tags."""
    environment.set_defaults()
    uri = tracking_uri(root)
    use_default = not os.environ.get(URI_ENV)
    artifacts = Layout(Path(root).resolve()).mlartifacts.as_uri() if use_default else None
    with scoped_tracking_uri(uri):
        from mlflow import MlflowClient

        with translated("search the runs", uri):
            experiment_id = _experiment_id(uri, artifact_location=artifacts)
            wanted = [*(f"tags.{k} = '{v}'" for k, v in tags.items())]
            found = MlflowClient(tracking_uri=uri).search_runs(
                [experiment_id],
                filter_string=" and ".join([*wanted, "attributes.status = 'FINISHED'"]),
                max_results=1,
            )
    return bool(found)


def close_orphans(uri: str, experiment_id: str) -> list[str]:
    """Mark FAILED the experiment's runs left RUNNING by a process of this machine that no
    longer exists (a killed stage), and tag the model versions they registered without a
    champion decision as undecided; return their run ids. Runs of live processes, or of
    other machines sharing the tracking server, are left alone."""
    import socket

    from mlflow import MlflowClient

    from ketapredict.processes import pid_alive

    client, host = MlflowClient(tracking_uri=uri), socket.gethostname()
    running = client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000
    )
    closed = []
    for run in running:
        pid = run.data.tags.get(PID_TAG, "")
        if run.data.tags.get(HOST_TAG) != host or not pid.isdigit() or pid_alive(int(pid)):
            continue
        run_id = run.info.run_id
        client.set_tag(run_id, "ketapredict.interrupted", f"process {pid} died with the run open")
        client.set_terminated(run_id, "FAILED")
        mark_undecided(client, run_id)
        logger.warning(
            "MLflow run %s was left open by a killed process %s: marked FAILED", run_id, pid
        )
        closed.append(run_id)
    return closed


def _experiment_id(uri: str, *, artifact_location: str | None) -> str:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        try:
            return client.create_experiment(EXPERIMENT, artifact_location=artifact_location)
        except MlflowException as exc:  # another process created it first
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None or experiment.lifecycle_stage != "active":
        raise TrackingError(
            f"MLflow experiment '{EXPERIMENT}' in {redact(uri)} is deleted; restore it with "
            f"`mlflow experiments restore` or point {URI_ENV} at another store"
        )
    if experiment.tags.get(KIND_TAG) != KIND:
        client.set_experiment_tag(experiment.experiment_id, KIND_TAG, KIND)
        client.set_experiment_tag(experiment.experiment_id, "mlflow.note.content", ABOUT)
    return experiment.experiment_id


def require_active_run(action: str) -> None:
    """Refuse to log outside start_run()/resume_run()."""
    import mlflow

    # Without this guard MLflow would silently start a stray run in the default experiment.
    if mlflow.active_run() is None:
        raise TrackingError(f"cannot {action}: no active MLflow run; call it inside start_run()")


def log_metrics(
    metrics: Mapping[str, float | None],
    step: int | None = None,
    *,
    model_id: str | None = None,
) -> dict[str, float]:
    """Log metrics to the active run, skipping None and NaN; return the ones logged. `model_id`:
    the logged model they measure (the UI lists them with that model, and only that one)."""
    import mlflow

    require_active_run("log metrics")
    kept = {
        key: float(value)
        for key, value in metrics.items()
        if value is not None and not math.isnan(float(value))
    }
    if kept:
        with translated("log metrics"):
            mlflow.log_metrics(kept, step=step, model_id=model_id)
    return kept


def set_tags(tags: Mapping[str, Any]) -> None:
    """Tag the active run (values as text)."""
    import mlflow

    require_active_run("set tags")
    with translated("set tags"):
        mlflow.set_tags({k: str(v) for k, v in tags.items()})


def describe_run(*, name: str | None = None, text: str | None = None) -> None:
    """Rename the active run (its name in the runs list) and set its Markdown description
    (the run page's Description): MLflow keeps both as tags."""
    set_tags(
        {
            **({"mlflow.runName": name} if name else {}),
            **({"mlflow.note.content": text} if text else {}),
        }
    )


def model_id(model_uri: str) -> str:
    """The logged model's id in its URI (MLflow 3: models:/<model id>)."""
    return model_uri.removeprefix("models:/").split("/")[0]


def log_params(params: Mapping[str, Any]) -> None:
    """Log parameters of the active run (values as text)."""
    import mlflow

    require_active_run("log params")
    with translated("log params"):
        mlflow.log_params({k: _param_text(v) for k, v in params.items()})


def log_dict_artifact(data: Any, artifact_file: str) -> None:
    """Store a JSON/YAML-serialisable object as an artifact (format from the file suffix)."""
    import mlflow

    require_active_run(f"log {artifact_file}")
    with translated(f"log artifact {artifact_file}"):
        mlflow.log_dict(data, artifact_file)


def log_text_artifact(text: str, artifact_file: str) -> None:
    """Store a string as a text artifact of the active run."""
    import mlflow

    require_active_run(f"log {artifact_file}")
    with translated(f"log artifact {artifact_file}"):
        mlflow.log_text(text, artifact_file)


def log_file_artifact(path: Path, artifact_path: str | None = None) -> None:
    """Copy a local file into the active run's artifacts, under ``artifact_path`` if given."""
    import mlflow

    require_active_run(f"log {path}")
    with translated(f"log artifact {path}"):
        mlflow.log_artifact(str(path), artifact_path)


def log_figure(fig: Figure, artifact_file: str) -> None:
    """Store a matplotlib Figure as an image artifact of the active run."""
    import mlflow

    require_active_run(f"log {artifact_file}")
    with translated(f"log figure {artifact_file}"):
        mlflow.log_figure(fig, artifact_file)
