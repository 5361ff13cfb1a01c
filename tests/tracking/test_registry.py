"""registry.py against a real MLflow with a SQLite store in a temp dir: registering, the
champion alias, downloads, and fetching models from the configured registry only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from ketapredict.errors import ModelError, TrackingError
from ketapredict.tracking import registry, runs
from ketapredict.tracking.store import tracking_uri
from tests.tracking.conftest import client


def _model_folder(where: Path, run_id: str) -> str:
    """A folder standing in for a logged model (an MLmodel naming its run); its URI."""
    where.mkdir(parents=True)
    (where / "MLmodel").write_text(f"run_id: {run_id}\n")
    return where.as_uri()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose registry holds model `m`: version 1 (the champion) and version 2."""
    root = tmp_path_factory.mktemp("registry")
    store = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
    store.create_registered_model("m")
    for version in (1, 2):
        store.create_model_version("m", _model_folder(root / f"v{version}", f"run{version}"))
    store.set_registered_model_alias("m", "champion", "1")
    return root


def test_register_crown_tag_and_download(tmp_path: Path) -> None:
    with runs.start_run(root=tmp_path, stage="train_responder", params={}):
        assert registry.champion_version("n") is None
        first = registry.register(_model_folder(tmp_path / "a", "ra"), "n", tags={"task": "x"})
        second = registry.register(_model_folder(tmp_path / "b", "rb"), "n", tags={})
        assert (first, second) == ("1", "2")
        assert registry.champion_version("n") is None
        registry.crown("n", first)
        assert registry.champion_version("n") == "1"
        registry.crown("n", second)
        assert registry.champion_version("n") == "2"
        registry.tag_version("n", first, {registry.DECISION_TAG: "not champion: worse"})
        dest = tmp_path / "models" / "n"
        dest.mkdir(parents=True)
        (dest / "stale.txt").write_text("from an earlier champion")
        assert registry.download_version("n", second, dest) == dest
    version = client(tmp_path).get_model_version("n", first)
    assert version.tags == {"task": "x", registry.DECISION_TAG: "not champion: worse"}
    assert not (dest / "stale.txt").exists(), "the folder is replaced whole"
    assert (dest / "MLmodel").read_text() == "run_id: rb\n"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["n"]


@pytest.mark.parametrize(("uri", "version"), [("models:/m@champion", "1"), ("models:/m/2", "2")])
def test_fetch_by_alias_or_version_records_what_it_fetched(
    project: Path, tmp_path: Path, uri: str, version: str
) -> None:
    folder = registry.fetch_model(uri, tmp_path / "fetched", root=project)
    assert registry.model_provenance(folder) == {
        "name": "m",
        "version": version,
        "run_id": f"run{version}",
    }


def test_the_private_registry_store_still_answers(project: Path) -> None:
    """registry_store() uses MLflow's private _get_store: this fails if MLflow drops it or
    changes what it answers, and fetch_model would then take MLflow's slower download."""
    store = registry.registry_store(tracking_uri(project))
    assert store is not None
    assert str(store.get_model_version_by_alias("m", "champion").version) == "1"
    assert str(store.get_model_version("m", "2").version) == "2"
    assert store.get_model_version_download_uri("m", "1") == (project / "v1").as_uri()


@pytest.mark.parametrize("uri", ["models:/m@nobody", "models:/nothing@champion", "models:/m/9"])
def test_a_model_not_in_the_registry_is_a_model_error(
    project: Path, tmp_path: Path, uri: str
) -> None:
    with pytest.raises(ModelError, match="not found in the registry at") as caught:
        registry.fetch_model(uri, tmp_path / "fetched", root=project)
    assert "\n" not in str(caught.value)


def test_no_registry_or_not_a_database_is_a_tracking_error(tmp_path: Path) -> None:
    with pytest.raises(TrackingError, match=r"no MLflow registry at .*train the models there"):
        registry.fetch_model("models:/m@champion", tmp_path / "fetched", root=tmp_path)
    (tmp_path / "mlflow.db").write_bytes(b"not a database, " * 100)
    with pytest.raises(TrackingError, match=r"cannot be read .*not an MLflow database"):
        registry.fetch_model("models:/m@champion", tmp_path / "fetched", root=tmp_path)


@pytest.mark.parametrize("uri", ["https://models.example.org/m", "s3://bucket/m", "/etc/m"])
def test_a_url_outside_the_registry_is_never_contacted(tmp_path: Path, uri: str) -> None:
    with pytest.raises(ModelError, match="not fetched: ketapredict loads models only"):
        registry.fetch_model(uri, tmp_path / "fetched", root=tmp_path)


def test_provenance_of_a_folder_that_names_nothing(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text("{not: [yaml")
    (tmp_path / "registered_model_meta").write_text(yaml.safe_dump(["a", "list"]))
    assert registry.model_provenance(tmp_path) == {"name": None, "version": None, "run_id": None}
