"""The logistic baseline: its file round-trips exactly and is loaded trusting only the types
it holds (a file that would run code is refused before anything in it is built)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketapredict.baseline import BASELINE_FILE, fit_baseline, load_baseline, save_baseline
from ketapredict.errors import ModelError


def _exec_node(code: str) -> dict:
    """A skops tree whose loading calls builtins.exec(code) (a constructor-from-reduce node)."""
    text = {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(code), "is_json": True, "__id__": 2}  # fmt: skip
    args = {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
            "content": [text], "__id__": 3}  # fmt: skip
    return {"__class__": "exec", "__module__": "builtins",
            "__loader__": "ConstructorFromReduceNode", "content": args, "__id__": 1,
            "protocol": 2, "_skops_version": "0.16.0"}  # fmt: skip


def test_a_real_baseline_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.random((60, 3)), columns=["a", "b", "c"])
    X.iloc[::7, 1] = np.nan
    y = (rng.random(60) < 0.5).astype(float)
    pipe = fit_baseline(X, y, np.ones(60))
    save_baseline(pipe, tmp_path)
    loaded = load_baseline(tmp_path)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_a_baseline_file_that_calls_exec_is_refused_before_anything_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with zipfile.ZipFile(tmp_path / BASELINE_FILE, "w") as archive:
        archive.writestr("schema.json", json.dumps(_exec_node(f"open({str(marker)!r}, 'w')")))
    with pytest.raises(ModelError, match=r"builtins\.exec.*refusing to load it"):
        load_baseline(tmp_path)
    assert not marker.exists()


def test_a_baseline_that_is_not_a_skops_file_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / BASELINE_FILE).write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="not a readable baseline"):
        load_baseline(tmp_path)


def test_the_same_fit_is_the_same_bytes(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.random((80, 3)), columns=["a", "b", "c"])
    X.iloc[::5, 0] = np.nan
    y = (rng.random(80) < 0.4).astype(float)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    fitted = [fit_baseline(X, y, np.ones(80)) for _ in range(2)]  # two objects, two addresses
    save_baseline(fitted[0], first)
    save_baseline(fitted[1], second)
    assert (first / BASELINE_FILE).read_bytes() == (second / BASELINE_FILE).read_bytes()
    with zipfile.ZipFile(first / BASELINE_FILE) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    np.testing.assert_array_equal(load_baseline(first).predict_proba(X), fitted[0].predict_proba(X))
