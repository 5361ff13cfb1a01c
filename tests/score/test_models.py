"""Which models a run fetches, and the registry downloads in a child process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ketapredict.contract import champion_uri
from ketapredict.score.models import is_mlflow_uri, prefetch_uris


def test_the_champions_are_fetched_for_tasks_without_a_model_uri() -> None:
    both = [champion_uri("responder"), champion_uri("relapse")]
    assert prefetch_uris(None, []) == both
    assert prefetch_uris(None, ["models/responder"]) == []  # the header may not need relapse
    assert prefetch_uris(("responder", "relapse"), ["models/responder"]) == both
    assert prefetch_uris(("relapse",), ["runs:/abc/model"]) == ["runs:/abc/model"]
    twice = ["models:/ketapredict-responder@champion"] * 2
    assert prefetch_uris(("responder",), twice) == twice[:1]


def test_folders_are_loaded_here_and_registry_uris_fetched() -> None:
    assert not is_mlflow_uri("models/responder")
    assert not is_mlflow_uri("file:///srv/models/responder")
    for uri in ("models:/ketapredict-relapse/3", "runs:/abc/model", "s3://bucket/model"):
        assert is_mlflow_uri(uri)


@pytest.mark.slow
def test_registry_prefetch_errors_wait_to_be_asked_for_and_a_dead_child_is_replaced(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketapredict.errors import ModelError
    from ketapredict.score.models import Prefetch

    # a copy of the registry (its artifacts stay where they are), so that the model cache
    # beside it is this test's own: emptied, a champion is downloaded again
    shutil.copy(project / "mlflow.db", tmp_path / "mlflow.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    good, bad = champion_uri("responder"), "models:/ketapredict-responder@nope"
    with Prefetch([bad, good], root=project) as fetched:
        assert (fetched.folder(good) / "MLmodel").is_file()
        with pytest.raises(ModelError, match="not found in the registry"):
            fetched.folder(bad)
    assert not fetched.tmp.exists()
    shutil.rmtree(tmp_path / ".ketapredict-cache")
    with Prefetch([good], root=project) as fetched:
        fetched.process.kill()
        fetched.process.join()
        assert (fetched.folder(good) / "registered_model_meta").is_file()  # fetched here
    with Prefetch([bad], root=project):
        pass  # never asked for: no error


def test_the_benefit_model_is_told_by_its_own_file() -> None:
    """model.py names benefit.model's file without importing it (that module imports LightGBM)."""
    from ketapredict.benefit.model import META_FILE
    from ketapredict.model import BENEFIT_META_FILE

    assert BENEFIT_META_FILE == META_FILE
