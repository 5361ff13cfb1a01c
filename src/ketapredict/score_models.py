"""The models a scoring run uses: exported folders or MLflow URIs (the registry champions by
default), each with its provenance: registered name, version, run id, size and calibration."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketapredict.errors import ModelError
from ketapredict.features import Task

if TYPE_CHECKING:
    from ketapredict.model import KetaModel

log = logging.getLogger(__name__)
CHAMPION_URI = "models:/ketapredict-{task}@champion"
Loaded = dict[Task, tuple["KetaModel", dict[str, Any]]]


def load_models(
    tasks: tuple[Task, ...], uris: tuple[str, ...], *, root: Path, strict: bool
) -> Loaded:
    """Each --model-uri serves the task its model was trained for; the other tasks use their
    registry champion. Two models for one task are an error; a model of a task not scored is
    one too if the tasks were asked for (`strict`), else it is left out with a warning."""
    found: Loaded = {}
    with tempfile.TemporaryDirectory(prefix="ketapredict-models-") as tmp:
        for uri in uris:
            model, info = _load(uri, root=root, tmp=Path(tmp))
            scored = " and ".join(tasks)
            if model.task not in tasks and not strict:
                log.warning(
                    "not using %s: a %s model, and this input is scored for %s",
                    uri,
                    model.task,
                    scored,
                )
                continue
            if model.task not in tasks:
                raise ModelError(
                    f"{uri} is a {model.task} model, but this run scores {scored}; "
                    f"pass --task {model.task} or a {' or '.join(tasks)} model"
                )
            if model.task in found:
                raise ModelError(f"two --model-uri for the {model.task} task: keep one")
            found[model.task] = (model, info)
        for task in tasks:
            if task not in found:
                found[task] = _champion(task, root=root, tmp=Path(tmp))
    return {task: found[task] for task in tasks}


def _champion(task: Task, *, root: Path, tmp: Path) -> tuple[KetaModel, dict[str, Any]]:
    uri = CHAMPION_URI.format(task=task)
    model, info = _load(uri, root=root, tmp=tmp)
    if model.task != task:
        raise ModelError(f"{uri} holds a {model.task} model, not a {task} one")
    return model, info


def _load(uri: str, *, root: Path, tmp: Path) -> tuple[KetaModel, dict[str, Any]]:
    from ketapredict import tracking
    from ketapredict.model import load_model  # LightGBM: imported only once it is needed

    if _is_mlflow_uri(uri):
        folder = tracking.fetch_model(uri, tmp / str(len(list(tmp.iterdir()))), root=root)
    else:
        folder = Path(uri.removeprefix("file://"))
        if not folder.exists():
            raise ModelError(f"{uri}: no such model folder (e.g. models/responder)")
    model = load_model(folder)
    info: dict[str, Any] = {"uri": uri, **tracking.model_provenance(folder), "task": model.task}
    info.update(trees=model.meta.get("trees"), leaves=model.meta.get("leaves"))
    info["calibration"] = model.calibration.get("method")
    log.info("%s model: %s (version %s, %s trees)", model.task, uri, info["version"], info["trees"])
    return model, info


def _is_mlflow_uri(uri: str) -> bool:
    return not uri.startswith("file:") and ("://" in uri or uri.startswith(("models:/", "runs:/")))
