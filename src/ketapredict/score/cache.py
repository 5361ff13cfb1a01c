"""Registered models already downloaded, beside the SQLite registry they came from, reused
while the registry still names the same version. The registry stays the source of truth: each
run reads what `models:/name@alias` (or `/version`) is now from the database itself, a few
milliseconds without importing MLflow, and a moved alias or a rebuilt database is a new key."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ketapredict.processes import remove_stale, temp_prefix

FOLDER = ".ketapredict-cache"  # beside mlflow.db; it ignores itself in git
ENTRY_FILE = "cache_entry.json"
_REGISTERED = re.compile(r"models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[0-9]+))")
_DELETED = "Deleted_Internal"  # MLflow's stage for a deleted version it keeps a row of
_WORKSPACE_ENV = "MLFLOW_WORKSPACE"


@dataclass(frozen=True)
class Version:
    """A registered model version as the registry describes it: a database rebuilt from
    scratch gives the same name and number a new creation time and run."""

    database: str
    name: str
    version: str
    run_id: str
    created: int
    location: str

    @property
    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def uri(self) -> str:
        """The version itself, not the alias: what is downloaded is what was looked up."""
        return f"models:/{self.name}/{self.version}"


def sqlite_path(store: str) -> Path | None:
    """The database file of a `sqlite:///` tracking URI; None for any other store."""
    if not store.startswith("sqlite:///"):
        return None
    return Path(store.removeprefix("sqlite:///").split("?", 1)[0])


def resolve(uri: str, database: Path) -> Version | None:
    """The version `uri` (models:/name@alias, models:/name/version) names now, read from the
    SQLite registry directly. None whenever MLflow should decide instead: another URI, the
    'latest' alias, a workspace chosen in the environment, no such alias, a database that
    cannot be read or whose tables this code does not know."""
    match = _REGISTERED.fullmatch(uri)
    if (
        match is None
        or (match["alias"] or "").lower() == "latest"
        or os.environ.get(_WORKSPACE_ENV)
    ):
        return None
    if not database.is_file():
        return None
    import sqlite3  # here: a run that needs no registry opens none

    try:
        row = _lookup(database, match["name"], match["alias"], match["version"])
    except sqlite3.Error:
        return None
    if row is None:
        return None
    version, run_id, created, location = row
    return Version(str(database.resolve()), match["name"], str(version), str(run_id or ""),
                   int(created or 0), str(location or ""))  # fmt: skip


def _lookup(
    database: Path, name: str, alias: str | None, version: str | None
) -> tuple[Any, ...] | None:
    """One READY, not deleted version of `name`: the alias's, or the numbered one."""
    import sqlite3
    from contextlib import closing

    uri = f"{database.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=2)) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(model_versions)")}
        workspace = " AND v.workspace = 'default'" if "workspace" in columns else ""
        select = (
            "SELECT v.version, v.run_id, v.creation_time, "
            "COALESCE(NULLIF(v.storage_location, ''), v.source) FROM model_versions v"
        )
        ready = f"v.status = 'READY' AND COALESCE(v.current_stage, '') != '{_DELETED}'"
        if alias is not None:
            joined = " AND a.workspace = v.workspace" if workspace else ""
            query = (
                f"{select} JOIN registered_model_aliases a ON a.name = v.name "
                f"AND a.version = v.version{joined} WHERE v.name = ? AND a.alias = ? "
                f"AND {ready}{workspace}"
            )
            rows = db.execute(query, (name, alias)).fetchall()
        else:
            query = f"{select} WHERE v.name = ? AND v.version = ? AND {ready}{workspace}"
            rows = db.execute(query, (name, int(version or 0))).fetchall()
    return rows[0] if len(rows) == 1 else None


class ModelCache:
    """Model folders by Version.key, in `folder` (beside the database). Entries appear whole
    (renamed into place); a newer version of a model replaces the older entry."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def beside(cls, database: Path) -> ModelCache:
        return cls(database.resolve().parent / FOLDER / "models")

    def get(self, version: Version) -> Path | None:
        """The cached folder of `version`, or None."""
        entry = self.folder / version.key
        try:
            stored = json.loads((entry / ENTRY_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry / "model" if stored == asdict(version) else None

    def staging(self) -> Path:
        """An empty folder to download into (on the cache's file system, so `put` renames);
        OSError if the cache cannot be written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore = self.folder.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# ketapredict's cache of registry downloads\n*\n")
        remove_stale(self.folder, "staging.")
        return Path(tempfile.mkdtemp(prefix=temp_prefix("staging."), dir=self.folder))

    def put(self, version: Version, model: Path, staging: Path) -> Path:
        """Publish the downloaded `model` folder (inside `staging`) as `version`'s entry and
        drop older entries of the same model; the entry's model folder. If another run
        published it first, theirs is kept."""
        entry = self.folder / version.key
        (staging / ENTRY_FILE).write_text(json.dumps(asdict(version)), encoding="utf-8")
        if model != staging / "model":
            model.rename(staging / "model")
        try:
            staging.rename(entry)
        except OSError:  # published meanwhile by another run
            shutil.rmtree(staging, ignore_errors=True)
            if self.get(version) is None:
                raise
        self._prune(version)
        return entry / "model"

    def evict(self, version: Version) -> None:
        shutil.rmtree(self.folder / version.key, ignore_errors=True)

    def _prune(self, kept: Version) -> None:
        """Entries of the same model from this database, or from a database now gone."""
        for entry in self.folder.iterdir():
            if entry.name == kept.key or entry.name.startswith("staging."):
                continue
            try:
                stored = json.loads((entry / ENTRY_FILE).read_text(encoding="utf-8"))
                same = (stored["database"], stored["name"]) == (kept.database, kept.name)
                gone = not Path(stored["database"]).exists()
            except (OSError, ValueError, KeyError, TypeError):
                continue  # being written, or not ours: left alone
            if same or gone:
                shutil.rmtree(entry, ignore_errors=True)
