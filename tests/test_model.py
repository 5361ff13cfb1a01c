"""Loading a model folder trusts nothing in it: JSON, LightGBM text and plain arrays only."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from ketapredict.errors import ModelError
from ketapredict.features import feature_names
from ketapredict.model import SEEN_FILE, KetaModel, load_model


def tiny_model(folder: Path) -> Path:
    """A real responder KetaModel (a few trees on random data), saved to `folder`."""
    rng = np.random.default_rng(0)
    names = feature_names("responder")
    X = pd.DataFrame(rng.random((200, len(names))), columns=names)
    y = (rng.random(200) < 0.5).astype(float)
    params = {"objective": "binary", "verbosity": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(X.to_numpy(), y, feature_name=names), 3)
    ranges = {c: (0.0, 1.0) for c in names}
    seen = np.arange(10, dtype=np.uint64)
    KetaModel("responder", booster, {"method": "none"}, ranges, {"trees": 3}, seen).save(folder)
    return folder


def test_a_saved_model_loads(tmp_path: Path) -> None:
    model = KetaModel.load(tiny_model(tmp_path / "m"))
    assert model.task == "responder" and model.seen is not None and len(model.seen) == 10


@pytest.mark.parametrize(
    "meta",
    [{}, [], {"task": "responder"}, "null"],
    ids=["empty object", "a list", "keys missing", "null"],
)
def test_a_model_json_without_its_fields_is_a_model_error(tmp_path: Path, meta: object) -> None:
    folder = tiny_model(tmp_path / "m")
    (folder / "model.json").write_text(meta if isinstance(meta, str) else json.dumps(meta))
    with pytest.raises(ModelError, match="not a ketapredict model"):
        KetaModel.load(folder)


def test_a_pickled_npy_is_refused_and_never_unpickled(tmp_path: Path) -> None:
    folder = tiny_model(tmp_path / "m")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple:
            return (exec, (f"open({str(marker)!r}, 'w').write('x')",))

    np.save(folder / SEEN_FILE, np.array([Evil()], dtype=object), allow_pickle=True)
    with pytest.raises(ModelError, match="not a plain array"):
        KetaModel.load(folder)
    assert not marker.exists()


def test_a_non_utf8_mlmodel_is_a_model_error(tmp_path: Path) -> None:
    folder = tmp_path / "mlflow_model"
    tiny_model(folder / "artifacts" / "lightgbm")
    (folder / "MLmodel").write_bytes("flavors: {x: \xe9}\n".encode("latin-1"))
    with pytest.raises(ModelError, match="not a ketapredict one"):
        load_model(folder)


def test_an_mlmodel_pointing_outside_its_folder_is_refused(tmp_path: Path) -> None:
    tiny_model(tmp_path / "elsewhere")
    folder = tmp_path / "mlflow_model"
    folder.mkdir()
    spec = (
        "flavors:\n  python_function:\n    artifacts:\n      model:\n        path: ../elsewhere\n"
    )
    (folder / "MLmodel").write_text(spec)
    with pytest.raises(ModelError, match="leads outside the model folder"):
        load_model(folder)
