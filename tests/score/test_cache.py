"""The model cache beside the registry: what the SQLite registry says a models:/ URI is now (read
without MLflow, checked against MLflow's own answer), and a cached champion that follows its
alias when it moves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ketapredict.contract import champion_uri
from ketapredict.score.cache import ENTRY_FILE, FOLDER, ModelCache, resolve, sqlite_path
from tests.score.helpers import as_csv, score_process

pytestmark = pytest.mark.slow
NAME = "ketapredict-responder"


@pytest.fixture
def registry(project: Path, tmp_path: Path) -> Path:
    """A copy of the trained project's registry (its artifacts stay where they are), so that
    moving an alias or filling the cache beside it touches this test alone."""
    shutil.copy(project / "mlflow.db", tmp_path / "mlflow.db")
    return tmp_path / "mlflow.db"


def _client(database: Path) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{database}", registry_uri=f"sqlite:///{database}")


def test_the_registry_is_read_as_mlflow_reads_it(registry: Path) -> None:
    client = _client(registry)
    mv = client.get_model_version_by_alias(NAME, "champion")
    found = resolve(champion_uri("responder"), registry)
    assert found is not None
    assert (found.name, found.version, found.run_id) == (NAME, str(mv.version), mv.run_id)
    assert found.location == client.get_model_version_download_uri(NAME, mv.version)
    assert resolve(f"models:/{NAME}/{mv.version}", registry) == found
    for other in (f"models:/{NAME}@nope", f"models:/{NAME}/99", f"models:/{NAME}@latest",
                  "runs:/abc/model", "models/responder"):  # fmt: skip
        assert resolve(other, registry) is None  # MLflow decides (and explains) those


def test_a_registry_that_cannot_be_read_is_left_to_mlflow(tmp_path: Path) -> None:
    garbage = tmp_path / "mlflow.db"
    garbage.write_bytes(bytes(range(256)) * 8)
    assert resolve(champion_uri("responder"), garbage) is None
    assert resolve(champion_uri("responder"), tmp_path / "absent.db") is None
    assert sqlite_path("http://127.0.0.1:5000") is None
    assert sqlite_path(f"sqlite:///{garbage}") == garbage


def test_a_rebuilt_registry_is_a_new_key(registry: Path) -> None:
    """Deleting mlflow.db and training again gives the same name and version number: the
    version's creation time and run tell the two apart."""
    found = resolve(champion_uri("responder"), registry)
    assert found is not None
    from dataclasses import replace

    assert replace(found, created=found.created + 1).key != found.key
    assert replace(found, run_id="another").key != found.key


def test_the_cached_champion_follows_its_alias(
    project: Path, registry: Path, tmp_path: Path
) -> None:
    """Scored twice, the champion is downloaded once; the alias moved to a new version, the
    next run scores with that version, and the cache keeps that one alone."""
    inputs, cache = as_csv(project, tmp_path), ModelCache.beside(registry)

    def scored(out: str) -> str:
        args = (str(inputs), "-o", str(tmp_path / out), "--task", "responder")
        result = score_process(registry.parent, *args, MLFLOW_TRACKING_URI=f"sqlite:///{registry}")
        assert result.returncode == 0, result.stderr
        sidecar = json.loads((tmp_path / f"{out}.json").read_text())
        return sidecar["models"]["responder"]["version"]

    def cached() -> list[str]:
        entries = [e for e in cache.folder.iterdir() if not e.name.startswith("staging.")]
        return [json.loads((e / ENTRY_FILE).read_text())["version"] for e in entries]

    first = resolve(champion_uri("responder"), registry)
    assert first is not None
    assert scored("a.csv") == first.version and cached() == [first.version]
    stamp = (cache.folder / first.key / ENTRY_FILE).stat().st_mtime_ns
    assert scored("b.csv") == first.version and cached() == [first.version]
    assert (cache.folder / first.key / ENTRY_FILE).stat().st_mtime_ns == stamp  # not again
    client = _client(registry)
    mv = client.get_model_version(NAME, first.version)
    files = client.get_model_version_download_uri(NAME, first.version)  # the same model
    moved = str(client.create_model_version(NAME, files, run_id=mv.run_id).version)
    client.set_registered_model_alias(NAME, "champion", moved)
    assert scored("c.csv") == moved and cached() == [moved]
    assert (registry.parent / FOLDER / ".gitignore").read_text().strip().endswith("*")


def test_a_damaged_cached_copy_is_downloaded_again(
    project: Path, registry: Path, tmp_path: Path
) -> None:
    inputs = as_csv(project, tmp_path)
    args = (str(inputs), "--task", "responder")
    uri = {"MLFLOW_TRACKING_URI": f"sqlite:///{registry}"}
    assert score_process(tmp_path, *args, "-o", str(tmp_path / "a.csv"), **uri).returncode == 0
    version = resolve(champion_uri("responder"), registry)
    assert version is not None
    cached = ModelCache.beside(registry).get(version)
    assert cached is not None
    booster = cached / "artifacts" / "lightgbm" / "booster.txt"
    booster.write_text("not a model")
    result = score_process(tmp_path, *args, "-o", str(tmp_path / "b.csv"), **uri)
    assert result.returncode == 0, result.stderr
    assert booster.read_text().startswith("tree")
