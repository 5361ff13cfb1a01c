"""The models a run uses, with their provenance; registry downloads run in a child process."""

# Importing MLflow is most of a scoring run's start-up: in the child it overlaps with reading
# the input and loading LightGBM here. This module imports neither, so the child starts at once.

from __future__ import annotations

import logging
import multiprocessing
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketapredict.contract import TASKS, AnyTask, champion_uri
from ketapredict.errors import ModelError, redact
from ketapredict.processes import remove_stale, temp_prefix

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from ketapredict.benefit.model import BenefitModel
    from ketapredict.model import KetaModel

log = logging.getLogger(__name__)
Loaded = dict[AnyTask, tuple["KetaModel | BenefitModel", dict[str, Any]]]


def prefetch_uris(tasks: Sequence[AnyTask] | None, uris: Sequence[str]) -> list[str]:
    """The registry URIs a run will need: the MLflow ones passed, and the champions when a task
    has no --model-uri. With the tasks not yet known (None: the input's header decides), the
    champions only when no --model-uri is given; the rare other need is fetched when known."""
    wanted = TASKS if tasks is None else tasks
    unserved = not uris if tasks is None else len(uris) < len(tasks)
    champions = [champion_uri(t) for t in wanted] if unserved else []
    return list(dict.fromkeys([u for u in uris if is_mlflow_uri(u)] + champions))


class Prefetch:
    """Registry downloads running in a child process, into a temporary folder this object
    owns. A failure there is raised only when that model is asked for; if the child cannot
    start or dies, the download runs here instead."""

    def __init__(self, uris: Sequence[str], *, root: Path) -> None:
        self.root, self.results = root, {}
        remove_stale(Path(tempfile.gettempdir()), "models.")  # left by a killed run
        self.tmp = Path(tempfile.mkdtemp(prefix=temp_prefix("models.")))
        self.process: Any = None
        self.conn: Connection | None = None
        if uris:
            self._start(list(uris))

    def _start(self, uris: list[str]) -> None:
        # fork copies this process, so nothing is imported twice; with other threads running a
        # fork is unsafe, and the fork server starts a clean process instead
        method = "fork" if threading.active_count() == 1 else "forkserver"
        ctx = multiprocessing.get_context(method)
        try:
            self.conn, child = ctx.Pipe(duplex=False)
            args = (uris, self.tmp, self.root, child)
            self.process = ctx.Process(target=_fetch_all, args=args, daemon=True)
            self.process.start()
            child.close()
        except OSError as exc:  # no processes here: fetch in this one when asked
            log.debug("registry prefetch not started (%s)", exc)
            self.process = self.conn = None

    def folder(self, uri: str) -> Path:
        """The downloaded model folder of `uri`, or the error its download met."""
        while uri not in self.results and self.conn is not None:
            try:
                done, outcome = self.conn.recv()
            except (EOFError, OSError):  # the child is gone: what is left is fetched here
                self.conn = None
                break
            self.results[done] = outcome
        if uri not in self.results:
            self.results[uri] = _fetch(uri, self.tmp / f"here-{len(self.results)}", self.root)
        outcome = self.results[uri]
        if isinstance(outcome, BaseException):
            raise outcome
        return Path(outcome)

    def close(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
        if self.process is not None:
            self.process.join(timeout=10)
        if self.conn is not None:
            self.conn.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fetch_all(uris: list[str], tmp: Path, root: Path, conn: Connection) -> None:
    """The child: download each URI, sending (uri, folder or the error) as each is done."""
    for i, uri in enumerate(uris):
        conn.send((uri, _fetch(uri, tmp / str(i), root)))
    conn.close()


def _fetch(uri: str, dest: Path, root: Path) -> str | BaseException:
    from ketapredict import tracking
    from ketapredict.errors import KetapredictError

    try:
        return str(tracking.fetch_model(uri, dest, root=root))
    except KetapredictError as exc:
        return exc


def load_models(
    tasks: tuple[AnyTask, ...], uris: tuple[str, ...], *, fetched: Prefetch, strict: bool
) -> Loaded:
    """Each --model-uri serves the task its model was trained for; the other tasks use their
    registry champion. Two models for one task are an error; a model of a task not scored is
    one too if the tasks were asked for (`strict`), else it is left out with a warning."""
    found: Loaded = {}
    for uri in uris:
        model, info = _load(uri, fetched)
        scored = " and ".join(tasks)
        if model.task not in tasks and not strict:
            log.warning(
                "not using %s: a %s model, and this input is scored for %s", uri, model.task, scored
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
            found[task] = _champion(task, fetched)
    return {task: found[task] for task in tasks}


def _champion(task: AnyTask, fetched: Prefetch) -> tuple[KetaModel | BenefitModel, dict[str, Any]]:
    uri = champion_uri(task)
    model, info = _load(uri, fetched)
    if model.task != task:
        raise ModelError(f"{uri} holds a {model.task} model, not a {task} one")
    return model, info


def _load(uri: str, fetched: Prefetch) -> tuple[KetaModel | BenefitModel, dict[str, Any]]:
    from ketapredict import tracking
    from ketapredict.model import load_model  # LightGBM: imported only once it is needed

    if is_mlflow_uri(uri):
        folder = fetched.folder(uri)
    else:
        folder = Path(uri.removeprefix("file://"))
        if not folder.exists():
            raise ModelError(f"{uri}: no such model folder (e.g. models/responder)")
        note = folder / "NO_CHAMPION.txt"  # what train_benefit leaves when none passed its gate
        if note.is_file():
            raise ModelError(f"{uri}: {note.read_text(encoding='utf-8').strip()}")
    model = load_model(folder)
    uri = redact(uri)  # from here on it is shown and written: no credentials
    info: dict[str, Any] = {"uri": uri, **tracking.model_provenance(folder), "task": model.task}
    info.update(trees=model.meta.get("trees"), leaves=model.meta.get("leaves"))
    info["calibration"] = model.calibration.get("method")
    if model.task == "benefit":
        info["learner"] = model.learner  # type: ignore[union-attr]
    log.info("%s model: %s (version %s, %s trees)", model.task, uri, info["version"], info["trees"])
    return model, info


def load_one(uri: str, *, root: Path) -> tuple[KetaModel | BenefitModel, dict[str, Any]]:
    """One model by URI (registry) or folder, with its provenance."""
    with Prefetch([uri] if is_mlflow_uri(uri) else [], root=root) as fetched:
        return _load(uri, fetched)


def is_mlflow_uri(uri: str) -> bool:
    return not uri.startswith("file:") and ("://" in uri or uri.startswith(("models:/", "runs:/")))
