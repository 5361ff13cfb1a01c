"""params.yaml: unknown keys and bad values stop with one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ketapredict.config import load_params
from ketapredict.errors import ConfigError
from ketapredict.layout import find_root
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
        (lambda d: d["features"].update(relapse_horizon_days=0), r"relapse_horizon_days"),
        (
            lambda d: d["generate"].update(relapse_horizon_days=28),
            r"generate\.relapse_horizon_days: the horizon is set once, as features\.",
        ),
        (lambda d: d.update(trian={}), r"trian: unknown key"),
        (lambda d: d.pop("generate"), r"generate: required key is missing"),
        (
            lambda d: d["generate"]["cohorts"].update(realworld=True),
            r"generate\.cohorts\.realworld: Input should be a valid integer",
        ),
        (
            lambda d: d["train"].update(cv_folds="5"),
            r"train\.cv_folds: Input should be a valid int",
        ),
        (lambda d: d["train"].update(max_trees=60.5), r"train\.max_trees: Input should be a valid"),
        (
            lambda d: d["train"]["search"].update(learning_rate=[0.1, -1]),
            r"train\.search\.learning_rate\.1: Input should be greater than 0",
        ),
        (
            lambda d: d["train"]["search"].update(num_leaves=[0]),
            r"train\.search\.num_leaves\.0: Input should be greater than or equal to 2",
        ),
        (
            lambda d: d["train"]["search"].update(feature_fraction=[2]),
            r"train\.search\.feature_fraction\.0: Input should be less than or equal to 1",
        ),
        (lambda d: d["train"].update(seed=10**30), r"train\.seed: Input should be less than or"),
        (
            lambda d: d["features"].update(test_fraction=True),
            r"features\.test_fraction: Input should be a valid number",
        ),
        (lambda d: d["plan"].update(sizes=[100, 0]), r"plan\.sizes: .*sample size 0: use at"),
        (lambda d: d["plan"].update(sizes=[]), r"plan\.sizes: .*at least 1 item"),
        (lambda d: d["plan"].update(learners=["svm"]), r"plan\.learners\.0: Input should be"),
        (lambda d: d["plan"].update(replicates=0), r"plan\.replicates: Input should be greater"),
        (lambda d: d["plan"].update(grid="huge"), r"plan\.grid: Input should be 'default'"),
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


def test_a_key_given_twice_is_refused(tmp_path) -> None:
    text = (ROOT / "params.yaml").read_text().replace("generate:\n", "generate:\n  seed: 1\n", 1)
    (tmp_path / "params.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"line \d+: .*key 'seed' appears twice") as info:
        load_params(tmp_path / "params.yaml")
    assert "\n" not in str(info.value)


def test_a_params_file_that_is_not_utf8_is_a_config_error(tmp_path) -> None:
    text = (ROOT / "params.yaml").read_text() + "# r\xe9sum\xe9\n"
    (tmp_path / "params.yaml").write_bytes(text.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"not UTF-8 text .*save it as UTF-8"):
        load_params(tmp_path / "params.yaml")


def test_a_tasks_label_is_the_features_keys_its_train_stage_lists() -> None:
    params = load_params(ROOT / "params.yaml")
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for task in ("responder", "relapse"):
        listed = {p for p in stages[f"train_{task}"]["params"] if p.startswith("features.")}
        label = params.features.label(task)
        assert {f"features.{key}" for key in label} == listed
    assert params.features.label("responder") == {
        "responder_label": {"visit": "24h", "threshold": 0.5}
    }
