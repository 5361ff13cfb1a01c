"""The models a run uses, with their provenance; registry models from the cache beside the
registry, or downloaded in a child process."""

# Importing MLflow would be most of a scoring run's start-up: a cached registry model needs
# none, and a download runs in the child, overlapping with reading the input here. This module
# imports neither MLflow nor LightGBM, so the child starts at once.

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketapredict.contract import TASKS, AnyTask, champion_uri
from ketapredict.errors import ModelError, redact
from ketapredict.processes import remove_stale, temp_prefix
from ketapredict.score.cache import ModelCache, Version, resolve, sqlite_path

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
    """Registry models for a run: from the cache beside the registry when the registry still
    names the cached version (no MLflow), else downloaded in a child process (into the cache
    when there is one, else into a temporary folder this object owns). A failure there is
    raised only when that model is asked for; if the child cannot start or dies, the download
    runs here instead. `root` None: no project, so no registry unless MLFLOW_TRACKING_URI."""

    def __init__(self, uris: Sequence[str], *, root: Path | None) -> None:
        self.root, self.results = root, {}
        remove_stale(Path(tempfile.gettempdir()), "models.")  # left by a killed run
        self.tmp = Path(tempfile.mkdtemp(prefix=temp_prefix("models.")))
        self.process: Any = None
        self.conn: Connection | None = None
        self.downloads: dict[str, _Download] = {}
        self.database = _sqlite_registry(root)  # a path only: nothing is read until needed
        self.cache = ModelCache.beside(self.database) if self.database else None
        wanted = [self._plan(uri) for uri in dict.fromkeys(uris)]
        if pending := [d for d in wanted if d.uri not in self.results]:
            self._start(pending)

    def _plan(self, uri: str) -> _Download:
        """What `uri` needs: nothing if the cache holds the version the registry names now,
        else a download of that version (the one looked up, even if the alias moves now)."""
        version = resolve(uri, self.database) if self.database else None
        cached = self.cache.get(version) if self.cache and version else None
        if cached is not None:
            log.debug("%s: the cached copy in %s", uri, cached)
            self.results[uri] = str(cached)
        staging = None
        if self.cache is not None and version is not None and cached is None:
            try:
                staging = self.cache.staging()
            except OSError as exc:  # a cache that cannot be written: download as before
                log.debug("model cache %s not used (%s)", self.cache.folder, exc)
        dest = staging / "download" if staging else self.tmp / str(len(self.downloads))
        source = version.uri if version else uri
        self.downloads[uri] = download = _Download(uri, source, dest, version, staging)
        return download

    def _start(self, downloads: list[_Download]) -> None:
        # fork copies this process, so nothing is imported twice; with other threads running a
        # fork is unsafe, and the fork server starts a clean process instead
        method = "fork" if threading.active_count() == 1 else "forkserver"
        ctx = multiprocessing.get_context(method)
        try:
            self.conn, child = ctx.Pipe(duplex=False)
            jobs = [(d.uri, d.source, d.dest) for d in downloads]
            args = (jobs, self.root, child)
            self.process = ctx.Process(target=_fetch_all, args=args, daemon=True)
            self.process.start()
            child.close()
        except OSError as exc:  # no processes here: fetch in this one when asked
            log.debug("registry prefetch not started (%s)", exc)
            self.process = self.conn = None

    def folder(self, uri: str) -> Path:
        """The model folder of `uri`, or the error its download met."""
        download = self.downloads.get(uri) or self._plan(uri)
        while uri not in self.results and self.conn is not None:
            try:
                done, outcome = self.conn.recv()
            except (EOFError, OSError):  # the child is gone: what is left is fetched here
                self.conn = None
                break
            self.results[done] = self._publish(self.downloads[done], outcome)
        if uri not in self.results:
            outcome = _fetch(download.source, download.dest, self.root)
            self.results[uri] = self._publish(download, outcome)
        outcome = self.results[uri]
        if isinstance(outcome, BaseException):
            raise outcome
        return Path(outcome)

    def _publish(self, download: _Download, outcome: str | BaseException) -> str | BaseException:
        """A downloaded version goes into the cache (if that fails, it is used where it is)."""
        cache, version, staging = self.cache, download.version, download.staging
        if isinstance(outcome, BaseException) or not (cache and version and staging):
            return outcome
        try:
            return str(cache.put(version, Path(outcome), staging))
        except OSError as exc:
            log.debug("model cache %s not updated (%s)", cache.folder, exc)
            return outcome

    def refetch(self, uri: str) -> Path | None:
        """`uri` downloaded again if its folder came from the cache (which is then dropped:
        a cached copy that does not load); None if it did not."""
        download = self.downloads.get(uri)
        if self.cache is None or download is None or download.version is None:
            return None
        if download.staging is not None:  # downloaded by this run, not read from the cache
            return None
        self.cache.evict(download.version)
        del self.results[uri], self.downloads[uri]
        return self.folder(uri)

    def close(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
        if self.process is not None:
            self.process.join(timeout=10)
        if self.conn is not None:
            self.conn.close()
        for download in self.downloads.values():  # published ones were renamed away
            if download.staging is not None:
                shutil.rmtree(download.staging, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class _Download:
    """`uri` as asked; `source`, what is downloaded (the registry version it names now, if
    known); `staging`, the cache's folder it is downloaded into (None: no cache)."""

    uri: str
    source: str
    dest: Path
    version: Version | None
    staging: Path | None


def _sqlite_registry(root: Path | None) -> Path | None:
    """The SQLite file of the registry a run uses, if it is one."""
    from ketapredict.tracking.store import URI_ENV, tracking_uri

    if root is None and not os.environ.get(URI_ENV):
        return None
    return sqlite_path(tracking_uri(root or Path.cwd()))


def _fetch_all(jobs: list[tuple[str, str, Path]], root: Path | None, conn: Connection) -> None:
    """The child: download each job, sending (uri, folder or the error) as each is done."""
    for uri, source, dest in jobs:
        conn.send((uri, _fetch(source, dest, root)))
    conn.close()


def _fetch(uri: str, dest: Path, root: Path | None) -> str | BaseException:
    from ketapredict import tracking
    from ketapredict.errors import KetapredictError

    if root is None and not os.environ.get(tracking.URI_ENV):
        return ModelError(
            f"no ketapredict project here (no params.yaml in {Path.cwd()} or above), so no "
            f"registry to take {uri} from: pass the project's folder, e.g. `ketapredict score "
            "patients.csv -o scores.csv --root ~/ketapredict`, or a model folder, e.g. "
            "`--model-uri ~/ketapredict/models/responder`"
        )
    try:
        return str(tracking.fetch_model(uri, dest, root=root or Path.cwd()))
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
    from ketapredict.model import load_model
    from ketapredict.score.trees import Trees  # LightGBM's library, not its Python package

    if is_mlflow_uri(uri):
        folder = fetched.folder(uri)
        try:
            model = load_model(folder, booster=Trees)
        except ModelError:  # a damaged cached copy is downloaded again; anything else stands
            folder = fetched.refetch(uri) or folder
            model = load_model(folder, booster=Trees)
    else:
        folder = Path(uri.removeprefix("file://"))
        if not folder.exists():
            raise ModelError(f"{uri}: no such model folder (e.g. models/responder)")
        note = folder / "NO_CHAMPION.txt"  # what train_benefit leaves when none passed its gate
        if note.is_file():
            raise ModelError(f"{uri}: {note.read_text(encoding='utf-8').strip()}")
        model = load_model(folder, booster=Trees)
    uri = redact(uri)  # from here on it is shown and written: no credentials
    info: dict[str, Any] = {"uri": uri, **tracking.model_provenance(folder), "task": model.task}
    info.update(trees=model.meta.get("trees"), leaves=model.meta.get("leaves"))
    info["calibration"] = model.calibration.get("method")
    if model.task == "benefit":
        info["learner"] = model.learner  # type: ignore[union-attr]
    log.info("%s model: %s (version %s, %s trees)", model.task, uri, info["version"], info["trees"])
    return model, info


def load_one(uri: str, *, root: Path | None) -> tuple[KetaModel | BenefitModel, dict[str, Any]]:
    """One model by URI (registry) or folder, with its provenance."""
    with Prefetch([uri] if is_mlflow_uri(uri) else [], root=root) as fetched:
        return _load(uri, fetched)


def is_mlflow_uri(uri: str) -> bool:
    return not uri.startswith("file:") and ("://" in uri or uri.startswith(("models:/", "runs:/")))
