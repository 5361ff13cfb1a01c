"""Training's pieces: the logistic baseline file (saved with skops, loaded trusting only the
types it holds) and single-threaded fits."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketapredict.errors import ModelError
from ketapredict.train import BASELINE_FILE, fit_baseline, load_baseline, save_baseline


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


def test_every_fit_is_single_threaded() -> None:
    """Multi-threaded fits collapse when other jobs hold the cores (OpenMP threads spin-wait
    for descheduled peers: a training stage ran 26-50 minutes instead of 20 seconds with three
    pipelines on 2 cores). Every fit uses one thread; parallelism comes from processes
    (benchmarks/bench_contention.py measures two trainings at once against one alone)."""
    from ketapredict import train

    candidate = {"num_leaves": 4, "learning_rate": 0.1, "min_child_samples": 5,
                 "reg_lambda": 0.0, "feature_fraction": 1.0}  # fmt: skip
    assert train.lgb_params(candidate, seed=1)["num_threads"] == 1
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), rng.integers(0, 2, 200).astype(float)
    booster = train.train_booster(candidate, 5, X, y, seed=1)
    assert booster.params["num_threads"] == 1
