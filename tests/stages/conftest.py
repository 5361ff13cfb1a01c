"""Fixtures for the stage tests: one tiny generated project per module, copied per test."""

from __future__ import annotations

import shutil

import pytest

from tests.helpers import cli, make_project


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("train"))
    for command in (["generate"], ["features"]):
        result = cli(command, root)
        assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def project(generated, tmp_path):
    """A fresh copy of the generated project: no MLflow database, no trained models."""
    copy_ = tmp_path / "project"
    shutil.copytree(generated, copy_)
    assert not (copy_ / "mlflow.db").exists()
    return copy_
