"""store.py: where the store is, the commit, one-line errors; importing tracking is free."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ketapredict.errors import TrackingError
from ketapredict.tracking import store


def test_default_uri_is_sqlite_db_under_root(tmp_path: Path) -> None:
    assert store.tracking_uri(tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"


def test_env_uri_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(store.URI_ENV, "sqlite:////elsewhere/team.db")
    assert store.tracking_uri(tmp_path) == "sqlite:////elsewhere/team.db"


def test_git_commit_is_none_outside_a_repo(tmp_path: Path, repo: tuple[Path, str]) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    assert store.git_commit(outside) is None
    assert store.git_commit(repo[0]) == repo[1]


def test_failures_become_one_redacted_line_with_the_fix() -> None:
    uri = "https://user:secret@mlflow.example.org"
    with (
        pytest.raises(TrackingError, match=store.URI_ENV) as caught,
        store.translated("log metrics", uri),
    ):
        raise OSError(f"disk full at {uri}\nsecond line")
    message = str(caught.value)
    assert message.startswith("MLflow could not log metrics at https://***@mlflow.example.org: ")
    assert "\n" not in message and "secret" not in message and "second line" not in message


def test_import_is_lazy_and_side_effect_free() -> None:
    code = (
        "import os, sys; import ketapredict.tracking; "
        "assert 'mlflow' not in sys.modules; "
        "assert 'MLFLOW_TRACKING_URI' not in os.environ; "
        "assert 'MLFLOW_DISABLE_TELEMETRY' not in os.environ"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
