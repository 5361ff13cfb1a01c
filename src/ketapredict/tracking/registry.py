"""The model registry: register a logged model, move the champion alias, record the decision,
and bring a registered model onto this machine (from the configured registry only)."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketapredict import environment
from ketapredict.contract import CHAMPION
from ketapredict.errors import ModelError, TrackingError, first_line, redact
from ketapredict.tracking.store import FIX, URI_ENV, scoped_tracking_uri, tracking_uri, translated

if TYPE_CHECKING:
    from mlflow import MlflowClient

logger = logging.getLogger(__name__)
DECISION_TAG = "champion_decision"
UNDECIDED = "undecided (training interrupted)"


def register(model_uri: str, name: str, *, tags: Mapping[str, str]) -> str:
    """Register a logged model as a new version of `name`; return the version."""
    import mlflow

    # MLflow prints its own lines about it to stderr, in no log format: ours say it once
    said = io.StringIO()
    with translated(f"register model {name}"), contextlib.redirect_stderr(said):
        mv = mlflow.register_model(model_uri, name, tags=dict(tags))
    logger.debug("MLflow: %s", " ".join(said.getvalue().split()))
    logger.info("registered %s version %s", name, mv.version)
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
    """Move the champion alias to `version` (earlier versions stay registered). The markers
    follow the alias: the version that held it, and its training run, are told when it moved
    (their `champion` tags would otherwise still say true)."""
    import mlflow

    client = mlflow.MlflowClient()
    previous = champion_version(name)
    with translated(f"set the champion alias of {name}"):
        client.set_registered_model_alias(name, CHAMPION, version)
        if previous is None or previous == version:
            return
        reason = f"champion until version {version} took the alias"
        client.set_model_version_tag(name, previous, DECISION_TAG, reason)
        run_id = client.get_model_version(name, previous).run_id
        if run_id:
            client.set_tag(run_id, "champion", "false")
            client.set_tag(run_id, "champion_reason", reason)


def tag_version(name: str, version: str, tags: Mapping[str, str]) -> None:
    """Tag a registered version (e.g. DECISION_TAG: why it is, or is not, the champion)."""
    import mlflow

    client = mlflow.MlflowClient()
    with translated(f"tag {name} version {version}"):
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, value)


def describe(
    name: str, *, model: str | None = None, version: str | None = None, text: str = ""
) -> None:
    """Set the Markdown description the registry UI shows: of the registered model `name`
    (text as `model`), or of one of its versions (`version`, `text`)."""
    import mlflow

    client = mlflow.MlflowClient()
    with translated(f"describe {name}"):
        if model is not None:
            client.update_registered_model(name, description=model)
        if version is not None:
            client.update_model_version(name, version, description=text)


def mark_undecided(client: MlflowClient, run_id: str) -> None:
    """Tag the versions a run registered without a champion decision as undecided (the run
    was killed between registering and deciding)."""
    for mv in client.search_model_versions(f"run_id = '{run_id}'"):
        if DECISION_TAG not in mv.tags:
            client.set_model_version_tag(mv.name, mv.version, DECISION_TAG, UNDECIDED)


def download_version(name: str, version: str, dest: Path) -> Path:
    """Copy a registered version's MLflow model folder to `dest` (replaced whole)."""
    import mlflow

    tmp = dest.with_name(f".{dest.name}.download")
    shutil.rmtree(tmp, ignore_errors=True)
    with translated(f"download {name} version {version}"):
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{name}/{version}", dst_path=str(tmp)
        )
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def fetch_model(uri: str, dest: Path, *, root: Path) -> Path:
    """Download an MLflow model (``models:/name@alias``, ``models:/name/version``, ``runs:/...``)
    from the registry at ``tracking_uri(root)`` into ``dest``; return its folder. A model that
    is not there is a ModelError, a registry that cannot be reached a TrackingError."""
    environment.set_defaults(fail_fast=True)
    store = tracking_uri(root)
    _refuse_foreign(uri, store)
    database = Path(store.removeprefix("sqlite:///")) if store.startswith("sqlite:///") else None
    if database is not None and not database.exists():
        raise TrackingError(
            f"no MLflow registry at {database}: train the models there first (dvc repro), set "
            f"{URI_ENV}, or pass --model-uri with an exported model such as models/responder"
        )
    with scoped_tracking_uri(store):
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
            detail = redact(first_line(exc, default="no detail"))
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise ModelError(
                    f"model {uri} not found in the registry at {redact(store)} ({detail}); "
                    "check the name and alias, train it (dvc repro), or pass --model-uri"
                ) from None
            raise TrackingError(
                f"MLflow registry at {redact(store)} unreachable: {detail}; {FIX}"
            ) from None
        except OSError as exc:
            raise TrackingError(redact(f"could not download {uri}: {exc}; {FIX}")) from None
        except SQLAlchemyError as exc:  # a file that is not an MLflow database
            detail = redact(first_line(exc, limit=200))
            raise TrackingError(
                f"the MLflow registry at {redact(store)} cannot be read ({detail}): not an "
                f"MLflow database? Move it aside (training makes a new one) or set {URI_ENV}"
            ) from None


def _refuse_foreign(uri: str, store: str) -> None:
    """Models come from the configured registry only: models:/ and runs:/ URIs resolve there;
    a URL elsewhere (http://, s3://, ...) is never contacted, only one on the tracking server
    itself."""
    if uri.startswith(("models:/", "runs:/")):
        return
    from urllib.parse import urlsplit

    there, server = urlsplit(uri), urlsplit(store)
    if (there.scheme, there.hostname, there.port) == (server.scheme, server.hostname, server.port):
        return
    raise ModelError(
        f"--model-uri {uri}: not fetched: ketapredict loads models only from the registry at "
        f"{redact(store)} (models:/..., runs:/...) or from a local folder; download it "
        "yourself if you trust its source"
    )


_REGISTERED = re.compile(r"models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[0-9]+))")


def _fetch_registered(uri: str, dest: Path, store: str) -> Path | None:
    """``models:/name@alias`` and ``models:/name/version`` through the model registry alone,
    then the version's files, with the registered_model_meta file MLflow's own download adds.
    None for other URIs, or if this MLflow lacks the registry store: the caller then uses
    MLflow's download."""
    match = _REGISTERED.fullmatch(uri)
    registry = None if match is None else registry_store(store)
    if match is None or registry is None:
        return None
    import mlflow
    import yaml

    name = match["name"]
    if match["alias"]:
        version = str(registry.get_model_version_by_alias(name, match["alias"]).version)
    else:
        version = str(registry.get_model_version(name, match["version"]).version)
    location = registry.get_model_version_download_uri(name, version)
    folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=location, dst_path=str(dest)))
    meta = {"model_name": name, "model_version": version}
    (folder / "registered_model_meta").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return folder


def registry_store(uri: str) -> Any | None:
    """MLflow's model-registry store for `uri`, or None if this MLflow has no such function.

    A private MLflow API, used for start-up time alone: ``MlflowClient`` (and MLflow's own
    ``models:/`` download) also opens the tracking store, whose import is a third of a scoring
    run's start-up; the registry store answers the same three questions without it.
    tests/tracking/test_registry.py fails if MLflow renames or changes it.
    """
    try:
        from mlflow.tracking._model_registry.utils import _get_store
    except ImportError:
        return None
    return _get_store(uri)


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


def _yaml_mapping(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) if path.is_file() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        data = None
    return data if isinstance(data, dict) else {}
