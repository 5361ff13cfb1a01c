"""The one module that talks to MLflow: URI, experiment, runs, params, metrics, artifacts."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketapredict.errors import TrackingError, redact

if TYPE_CHECKING:
    import mlflow
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

EXPERIMENT = "ketapredict"
URI_ENV = "MLFLOW_TRACKING_URI"
MAX_PARAM_LENGTH = 6000  # mlflow.utils.validation.MAX_PARAM_VAL_LENGTH
_FIX = f"check {URI_ENV} (unset it to use <repo>/mlflow.db) and that its folder is writable"


def tracking_uri(root: Path) -> str:
    """Where runs are recorded: ``$MLFLOW_TRACKING_URI`` if set, else ``<root>/mlflow.db``."""
    return os.environ.get(URI_ENV) or f"sqlite:///{Path(root).resolve() / 'mlflow.db'}"


def git_commit(root: Path) -> str | None:
    """The HEAD commit of the repository at ``root``, or None outside git or without git."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and sha else None


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
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = tracking_uri(root)
    use_default = not os.environ.get(URI_ENV)
    artifacts = (Path(root).resolve() / "mlartifacts").as_uri() if use_default else None
    run_tags = {**(tags or {}), "dvc_stage": stage, **_owner_tags()}
    commit = git_commit(root)
    if commit is not None:
        run_tags["git_commit"] = commit
    with _scoped_tracking_uri(uri), _project(root):
        import mlflow

        with _translated(f"open a run for stage '{stage}'", uri):
            experiment_id = _experiment_id(uri, artifact_location=artifacts)
            close_orphans(uri, experiment_id)
            run = mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=run_tags)
        status = "FAILED"
        try:
            with _translated(f"log params for stage '{stage}'", uri):
                mlflow.log_params(flatten_params(params))
            logger.debug("MLflow run %s in %s", run.info.run_id, _redacted(uri))
            yield run
            status = "FINISHED"
        finally:
            # Errors raised by the block itself propagate untouched; only closing is ours.
            with _translated(f"close the run for stage '{stage}'", uri):
                mlflow.end_run(status)


PID_TAG, HOST_TAG = "ketapredict.pid", "ketapredict.host"
DECISION_TAG = "champion_decision"
UNDECIDED = "undecided (training interrupted)"


def _owner_tags() -> dict[str, str]:
    """The process that holds a run open: a run still RUNNING when it is gone was killed."""
    import socket

    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


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
        for mv in client.search_model_versions(f"run_id = '{run_id}'"):
            if DECISION_TAG not in mv.tags:
                client.set_model_version_tag(mv.name, mv.version, DECISION_TAG, UNDECIDED)
        logger.warning(
            "MLflow run %s was left open by a killed process %s: marked FAILED", run_id, pid
        )
        closed.append(run_id)
    return closed


_ROOT: ContextVar[Path | None] = ContextVar("ketapredict_project_root", default=None)


@contextmanager
def _project(root: Path) -> Iterator[None]:
    """The project root of the open run, so that what is logged names paths relative to it."""
    token = _ROOT.set(Path(root).resolve())
    try:
        yield
    finally:
        _ROOT.reset(token)


@contextmanager
def _scoped_tracking_uri(uri: str) -> Iterator[None]:
    """Set MLflow's global URI for a block, then put both it and the env variable back.

    ``mlflow.set_tracking_uri`` also writes ``MLFLOW_TRACKING_URI`` into ``os.environ``; left
    there it would make the next ``tracking_uri(other_root)`` return this root's database.
    Only this module sets the global URI, so "back" means unset.
    """
    import mlflow

    previous_env = os.environ.get(URI_ENV)
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None unsets; MLflow allows it
        if previous_env is not None:
            os.environ[URI_ENV] = previous_env


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
            f"MLflow experiment '{EXPERIMENT}' in {_redacted(uri)} is deleted; restore it with "
            f"`mlflow experiments restore` or point {URI_ENV} at another store"
        )
    return experiment.experiment_id


@contextmanager
def _translated(action: str, uri: str | None = None) -> Iterator[None]:
    """Turn MLflow, database and filesystem failures into a one-line TrackingError."""
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except (MlflowException, SQLAlchemyError, OSError) as exc:
        where = f" at {_redacted(uri)}" if uri else ""
        detail = redact((str(exc).strip().splitlines() or [type(exc).__name__])[0][:300])
        raise TrackingError(f"MLflow could not {action}{where}: {detail}; {_FIX}") from exc


def _redacted(uri: str) -> str:
    """The URI without any user:password part or token, fit for an error message."""
    return redact(uri)


def _require_active_run(action: str) -> None:
    import mlflow

    # Without this guard MLflow would silently start a stray run in the default experiment.
    if mlflow.active_run() is None:
        raise TrackingError(f"cannot {action}: no active MLflow run; call it inside start_run()")


def log_metrics(metrics: Mapping[str, float | None], step: int | None = None) -> dict[str, float]:
    """Log metrics to the active run, skipping None and NaN; return the ones logged."""
    import mlflow

    _require_active_run("log metrics")
    kept = {
        key: float(value)
        for key, value in metrics.items()
        if value is not None and not math.isnan(float(value))
    }
    if kept:
        with _translated("log metrics"):
            mlflow.log_metrics(kept, step=step)
    return kept


def set_tags(tags: Mapping[str, Any]) -> None:
    """Tag the active run (values as text)."""
    import mlflow

    _require_active_run("set tags")
    with _translated("set tags"):
        mlflow.set_tags({k: str(v) for k, v in tags.items()})


def log_params(params: Mapping[str, Any]) -> None:
    """Log parameters of the active run (values as text)."""
    import mlflow

    _require_active_run("log params")
    with _translated("log params"):
        mlflow.log_params({k: _param_text(v) for k, v in params.items()})


def log_dict_artifact(data: Any, artifact_file: str) -> None:
    """Store a JSON/YAML-serialisable object as an artifact (format from the file suffix)."""
    import mlflow

    _require_active_run(f"log {artifact_file}")
    with _translated(f"log artifact {artifact_file}"):
        mlflow.log_dict(data, artifact_file)


def log_text_artifact(text: str, artifact_file: str) -> None:
    """Store a string as a text artifact of the active run."""
    import mlflow

    _require_active_run(f"log {artifact_file}")
    with _translated(f"log artifact {artifact_file}"):
        mlflow.log_text(text, artifact_file)


def log_file_artifact(path: Path, artifact_path: str | None = None) -> None:
    """Copy a local file into the active run's artifacts, under ``artifact_path`` if given."""
    import mlflow

    _require_active_run(f"log {path}")
    with _translated(f"log artifact {path}"):
        mlflow.log_artifact(str(path), artifact_path)


def log_figure(fig: Figure, artifact_file: str) -> None:
    """Store a matplotlib Figure as an image artifact of the active run."""
    import mlflow

    _require_active_run(f"log {artifact_file}")
    with _translated(f"log figure {artifact_file}"):
        mlflow.log_figure(fig, artifact_file)


CHAMPION = "champion"


def log_ketapredict_model(
    model_dir: Path, *, input_example: Any, signature_input: Any, output_column: str
) -> str:
    """Log a KetaModel folder as an MLflow pyfunc model of the active run; return its URI."""
    import mlflow
    from mlflow.models import infer_signature

    from ketapredict.pyfunc import MODEL_ARTIFACT

    _require_active_run("log the model")
    output = signature_input.iloc[:2, :0].assign(**{output_column: 0.5})
    signature = infer_signature(signature_input, output)
    source, root = Path(model_dir).resolve(), _ROOT.get()
    # MLflow writes the artifact's path as given into MLmodel: relative to the project (and
    # logged from there), it names no folder of this machine
    artifact = str(source)
    where: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if root is not None and source.is_relative_to(root):
        artifact, where = source.relative_to(root).as_posix(), contextlib.chdir(root)
    with _translated("log the model"), where:
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(Path(__file__).with_name("pyfunc_model.py")),
            artifacts={MODEL_ARTIFACT: artifact},
            signature=signature,
            input_example=input_example,
            pip_requirements=_requirements(),
        )
    return info.model_uri


def log_sklearn_model(model: Any, *, name: str, signature_input: Any) -> str:
    """Log a scikit-learn model (the logistic baseline) with skops serialisation."""
    import mlflow
    from mlflow.models import infer_signature

    from ketapredict.train import BASELINE_TYPES

    _require_active_run(f"log {name}")
    signature = infer_signature(
        signature_input, model.predict_proba(signature_input.iloc[:5])[:, 1]
    )
    with _translated(f"log {name}"):
        info = mlflow.sklearn.log_model(
            model,
            name=name,
            serialization_format="skops",
            signature=signature,
            pyfunc_predict_fn="predict_proba",
            # the fixed list, not whatever the file holds: mlflow.sklearn.load_model trusts it
            skops_trusted_types=list(BASELINE_TYPES),
            pip_requirements=_requirements(),
        )
    return info.model_uri


def _requirements() -> list[str]:
    from importlib.metadata import version

    names = ("ketapredict", "lightgbm", "numpy", "pandas", "scipy", "scikit-learn", "skops")
    return [f"{n}=={version(n)}" for n in names]


def register(model_uri: str, name: str, *, tags: Mapping[str, str]) -> str:
    """Register a logged model as a new version of `name`; return the version."""
    import mlflow

    with _translated(f"register model {name}"):
        mv = mlflow.register_model(model_uri, name, tags=dict(tags))
    return str(mv.version)


def champion_version(name: str) -> str | None:
    """The version holding the champion alias, or None (no model, or no champion yet)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        return str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def crown(name: str, version: str) -> None:
    """Move the champion alias to `version` (earlier versions stay registered)."""
    import mlflow

    with _translated(f"set the champion alias of {name}"):
        mlflow.MlflowClient().set_registered_model_alias(name, CHAMPION, version)


def tag_version(name: str, version: str, tags: Mapping[str, str]) -> None:
    import mlflow

    client = mlflow.MlflowClient()
    with _translated(f"tag {name} version {version}"):
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, value)


def download_version(name: str, version: str, dest: Path) -> Path:
    """Copy a registered version's MLflow model folder to `dest` (replaced whole)."""
    import shutil

    import mlflow

    tmp = dest.with_name(f".{dest.name}.download")
    shutil.rmtree(tmp, ignore_errors=True)
    with _translated(f"download {name} version {version}"):
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{name}/{version}", dst_path=str(tmp)
        )
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


@contextmanager
def resume_run(*, root: Path, run_id: str, stage: str) -> Iterator[mlflow.ActiveRun]:
    """Reopen an existing run (a model's training run) to add a later stage's results to it,
    so the UI shows the model with its evaluation and explanations; tags `<stage>_commit`."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    uri = tracking_uri(root)
    with _scoped_tracking_uri(uri):
        import mlflow

        with _translated(f"reopen run {run_id} for stage '{stage}'", uri):
            run = mlflow.start_run(run_id=run_id)
            mlflow.set_tags(_owner_tags())  # open again, by this process
            commit = git_commit(root)
            if commit is not None:
                mlflow.set_tag(f"{stage}_git_commit", commit)
        try:
            yield run
        finally:
            with _translated(f"close run {run_id}", uri):
                mlflow.end_run()


def fetch_model(uri: str, dest: Path, *, root: Path) -> Path:
    """Download an MLflow model (``models:/name@alias``, ``models:/name/version``, ``runs:/...``)
    from the registry at ``tracking_uri(root)`` into ``dest``; return its folder. A model that
    is not there is a ModelError, a registry that cannot be reached a TrackingError."""
    from ketapredict.errors import ModelError

    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # fail now, not in minutes
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    store = tracking_uri(root)
    _refuse_foreign(uri, store)
    database = Path(store.removeprefix("sqlite:///")) if store.startswith("sqlite:///") else None
    if database is not None and not database.exists():
        raise TrackingError(
            f"no MLflow registry at {database}: train the models there first (dvc repro), set "
            f"{URI_ENV}, or pass --model-uri with an exported model such as models/responder"
        )
    with _scoped_tracking_uri(store):
        import mlflow
        from mlflow.exceptions import MlflowException
        from sqlalchemy.exc import SQLAlchemyError

        try:
            folder = _fetch_registered(uri, dest, store)
            if folder is None:
                folder = Path(
                    mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(dest))
                )
            return folder
        except MlflowException as exc:
            detail = redact((str(exc).strip().splitlines() or ["no detail"])[0][:300])
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise ModelError(
                    f"model {uri} not found in the registry at {_redacted(store)} ({detail}); "
                    "check the name and alias, train it (dvc repro), or pass --model-uri"
                ) from None
            raise TrackingError(
                f"MLflow registry at {_redacted(store)} unreachable: {detail}; {_FIX}"
            ) from None
        except OSError as exc:
            raise TrackingError(redact(f"could not download {uri}: {exc}; {_FIX}")) from None
        except SQLAlchemyError as exc:  # a file that is not an MLflow database
            detail = redact((str(exc).strip().splitlines() or [type(exc).__name__])[0][:200])
            raise TrackingError(
                f"the MLflow registry at {_redacted(store)} cannot be read ({detail}): not an "
                f"MLflow database? Move it aside (training makes a new one) or set {URI_ENV}"
            ) from None


def _refuse_foreign(uri: str, store: str) -> None:
    """Models come from the configured registry only: models:/ and runs:/ URIs resolve there;
    a URL elsewhere (http://, s3://, ...) is never contacted, only one on the tracking server
    itself."""
    if uri.startswith(("models:/", "runs:/")):
        return
    from urllib.parse import urlsplit

    from ketapredict.errors import ModelError

    there, server = urlsplit(uri), urlsplit(store)
    if (there.scheme, there.hostname, there.port) == (server.scheme, server.hostname, server.port):
        return
    raise ModelError(
        f"--model-uri {uri}: not fetched: ketapredict loads models only from the registry at "
        f"{_redacted(store)} (models:/..., runs:/...) or from a local folder; download it "
        "yourself if you trust its source"
    )


_REGISTERED = re.compile(r"models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[0-9]+))")


def _fetch_registered(uri: str, dest: Path, store: str) -> Path | None:
    """``models:/name@alias`` and ``models:/name/version`` through the model registry alone,
    then the version's files, with the registered_model_meta file MLflow's own download adds.
    MLflow's download also opens the tracking store, whose import is a third of a scoring
    run's start-up. None for other URIs, or if this MLflow lacks the registry store (private
    API): the caller then uses MLflow's download."""
    match = _REGISTERED.fullmatch(uri)
    if match is None:
        return None
    try:
        from mlflow.tracking._model_registry.utils import _get_store
    except ImportError:
        return None
    import mlflow
    import yaml

    registry, name = _get_store(store), match["name"]
    if match["alias"]:
        version = str(registry.get_model_version_by_alias(name, match["alias"]).version)
    else:
        version = str(registry.get_model_version(name, match["version"]).version)
    location = registry.get_model_version_download_uri(name, version)
    folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=location, dst_path=str(dest)))
    meta = {"model_name": name, "model_version": version}
    (folder / "registered_model_meta").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return folder


def model_provenance(folder: Path) -> dict[str, str | None]:
    """Registered name, version and run id of an MLflow model folder, read from its MLmodel
    and registered_model_meta files (no MLflow import); None where the folder does not say."""
    mlmodel = _yaml_mapping(Path(folder) / "MLmodel")
    registered = _yaml_mapping(Path(folder) / "registered_model_meta")
    found = {
        "name": registered.get("model_name"),
        "version": registered.get("model_version"),
        "run_id": mlmodel.get("run_id"),
    }
    return {key: None if value is None else str(value) for key, value in found.items()}


def model_run_id(folder: Path) -> str:
    """The MLflow run that logged the model in `folder` (e.g. models/responder, the champion
    exported there), for stages that add to that run."""
    from ketapredict.errors import ModelError

    run_id = model_provenance(folder)["run_id"]
    if run_id is None:
        raise ModelError(f"{Path(folder) / 'MLmodel'} names no run: rerun `dvc repro train_*`")
    return run_id


def _yaml_mapping(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) if path.is_file() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        data = None
    return data if isinstance(data, dict) else {}
