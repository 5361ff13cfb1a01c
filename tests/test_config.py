"""params.yaml: unknown keys and bad values stop with one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ketapredict.config import find_root, load_params
from ketapredict.errors import ConfigError
from tests.conftest import ROOT


def _params(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((ROOT / "params.yaml").read_text())
    change(data)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_project_params_parse() -> None:
    params = load_params(ROOT / "params.yaml")
    assert sum(params.generate.cohorts.values()) >= 20_000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["generate"].update(sed=1), r"generate\.sed: unknown key"),
        (lambda d: d["generate"].update(seed=-1), r"generate\.seed: Input should be greater"),
        (
            lambda d: d["generate"].update(seed="abc"),
            r"generate\.seed: Input should be a valid integer",
        ),
        (lambda d: d["generate"]["cohorts"].update(realworld=0), r"realworld: number of patients"),
        (lambda d: d["generate"].update(relapse_horizon_days=0), r"relapse_horizon_days"),
        (lambda d: d.update(trian={}), r"trian: unknown key"),
        (lambda d: d.pop("generate"), r"generate: required key is missing"),
    ],
)
def test_bad_params_are_one_line_errors(tmp_path, change, message) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_params(_params(tmp_path, change))
    assert "\n" not in str(info.value)


def test_params_must_be_a_mapping(tmp_path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("- just a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_params(path)


def test_missing_params_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_params(tmp_path / "params.yaml")


def test_find_root_walks_up(tmp_path) -> None:
    (tmp_path / "params.yaml").write_text("generate: {}\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == tmp_path.resolve()
