"""The model object every stage shares: LightGBM trees, an optional calibration map, the
feature contract and the training ranges. Stored as LightGBM text + JSON (no pickles)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ketapredict.benefit.model import META_FILE as BENEFIT_META_FILE
from ketapredict.benefit.model import BenefitModel
from ketapredict.booster import BoosterFactory, lightgbm_booster
from ketapredict.contract import TASKS, Task
from ketapredict.errors import ModelError, first_line
from ketapredict.features import build_features, feature_names
from ketapredict.io import atomic_path, write_json, write_text

# LightGBM and SciPy are imported where used: scoring loads its trees without the lightgbm
# package (whose import brings scikit-learn and SciPy's statistics, over a second)
if TYPE_CHECKING:
    import lightgbm as lgb

BOOSTER_FILE = "booster.txt"
META_FILE = "model.json"
SEEN_FILE = "seen_rows.npy"
SEEN_OOF_FILE = "seen_oof.npy"


def fingerprint(X: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row of model inputs: the same patient gives the same value."""
    return pd.util.hash_pandas_object(X.reset_index(drop=True), index=False).to_numpy()


@dataclass
class KetaModel:
    """Probability of the task's outcome: sigmoid of the trees' score, then calibration."""

    task: Task
    booster: lgb.Booster  # or any object with its predict (score.trees.Trees)
    calibration: dict[str, Any]
    ranges: dict[str, tuple[float, float]]
    meta: dict[str, Any] = field(default_factory=dict)
    seen: np.ndarray | None = None  # fingerprints of the training rows
    # cross-validated probability of each training row (aligned with `seen`): the model's
    # honest prediction for patients it trained on, for comparing it with a later candidate
    seen_oof: np.ndarray | None = None

    @property
    def features(self) -> list[str]:
        return feature_names(self.task)

    def raw_score(self, X: pd.DataFrame | np.ndarray, *, threads: int = 0) -> np.ndarray:
        """Log-odds from the trees (the scale SHAP values add up to); `threads` 0: LightGBM's
        default (every core)."""
        X = np.asarray(X, dtype=np.float64)
        return self.booster.predict(X, raw_score=True, num_threads=threads)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        return apply_calibration(self.calibration, raw)

    def predict_matrix(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self.calibrate(self.raw_score(X))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probabilities for raw inputs (the scoring schema), via the one feature builder."""
        return self.predict_matrix(build_features(frame, self.task)[self.features])

    def contributions(self, X: pd.DataFrame | np.ndarray, *, threads: int = 0) -> np.ndarray:
        """TreeSHAP contributions on the log-odds scale, last column the expected value."""
        X = np.asarray(X, dtype=np.float64)
        return self.booster.predict(X, pred_contrib=True, num_threads=threads)

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        write_text(self.booster.model_to_string(), folder / BOOSTER_FILE)
        meta = {
            "task": self.task,
            "features": self.features,
            "calibration": self.calibration,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "meta": self.meta,
        }
        write_json(meta, folder / META_FILE)
        if self.seen is not None:
            order = np.argsort(self.seen, kind="stable")
            arrays = {SEEN_FILE: self.seen[order]}
            if self.seen_oof is not None:
                arrays[SEEN_OOF_FILE] = np.asarray(self.seen_oof, dtype=np.float64)[order]
            for name, array in arrays.items():
                with atomic_path(folder / name) as tmp, tmp.open("wb") as fh:
                    np.save(fh, array)

    @classmethod
    def load(cls, folder: str | Path, *, booster: BoosterFactory | None = None) -> KetaModel:
        """Read a saved model: LightGBM text, JSON and a plain uint64 array, never a pickle;
        anything malformed is a ModelError naming the file. `booster` builds the trees from
        their text (default: a lightgbm.Booster)."""
        folder = Path(folder)
        make, refused = (booster, ValueError) if booster else lightgbm_booster()
        try:
            meta = _checked_meta(json.loads((folder / META_FILE).read_text(encoding="utf-8")))
            trees = make((folder / BOOSTER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError, refused) as exc:
            raise ModelError(f"{folder}: not a ketapredict model ({first_line(exc)})") from None
        if meta["features"] != feature_names(meta["task"]):
            raise ModelError(
                f"{folder}: the model's features do not match this version's {meta['task']} "
                "feature schema; retrain it (dvc repro) or use a matching ketapredict"
            )
        ranges = {k: (float(v[0]), float(v[1])) for k, v in meta["ranges"].items()}
        seen = _load_array(folder / SEEN_FILE, np.uint64)
        seen_oof = _load_array(folder / SEEN_OOF_FILE, np.float64)
        if seen is None or seen_oof is None or len(seen_oof) != len(seen):
            seen_oof = None
        return cls(meta["task"], trees, meta["calibration"], ranges, meta["meta"], seen, seen_oof)


def _checked_meta(meta: Any) -> dict[str, Any]:
    """model.json's fields with the types KetaModel needs (ValueError naming the first bad)."""
    if not isinstance(meta, dict):
        raise ValueError(f"{META_FILE} is not a JSON object")
    expected = {"task": str, "features": list, "calibration": dict, "ranges": dict, "meta": dict}
    for key, kind in expected.items():
        if not isinstance(meta.get(key), kind):
            raise ValueError(f"{META_FILE}: '{key}' is missing or not a {kind.__name__}")
    if meta["task"] not in TASKS:
        raise ValueError(f"{META_FILE}: unknown task {meta['task']!r}")
    if meta["calibration"].get("method") not in CALIBRATIONS:
        raise ValueError(f"{META_FILE}: unknown calibration {meta['calibration'].get('method')!r}")
    for name, pair in meta["ranges"].items():
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError(f"{META_FILE}: range of {name!r} is not [low, high]")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair):
            raise ValueError(f"{META_FILE}: range of {name!r} is not two numbers")
    return meta


def _load_array(path: Path, dtype: type) -> np.ndarray | None:
    """A 1-D array of `dtype` (training-row fingerprints, their out-of-fold probabilities),
    or None if the file is absent; object arrays (pickles) are refused."""
    if not path.exists():
        return None
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ModelError(f"{path}: not a plain array of {np.dtype(dtype).name} ({exc})") from None
    if not isinstance(array, np.ndarray) or array.dtype != dtype or array.ndim != 1:
        raise ModelError(f"{path}: not a plain array ({np.dtype(dtype).name}, 1-D)")
    return array


CALIBRATIONS = ("none", "sigmoid", "isotonic")


def expit(x: np.ndarray | float) -> np.ndarray:
    """The logistic function, 1 / (1 + e^-x), as scipy.special.expit computes it: numpy's own,
    as importing scipy.special costs a scoring run 0.2 s of its start-up."""
    with np.errstate(over="ignore"):  # e^-x overflows for x < -709: the result is 0
        return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def apply_calibration(calibration: dict[str, Any], raw: np.ndarray) -> np.ndarray:
    method = calibration["method"]
    if method == "none":
        return expit(raw)
    if method == "sigmoid":
        return expit(calibration["a"] * raw + calibration["b"])
    if method == "isotonic":
        p = np.interp(expit(raw), calibration["x"], calibration["y"])
        return np.clip(p, 1e-6, 1 - 1e-6)
    raise ModelError(f"unknown calibration method {method!r}")


def load_model(
    folder: str | Path, *, booster: BoosterFactory | None = None
) -> KetaModel | BenefitModel:
    """A KetaModel (or a BenefitModel) from its own folder or from an MLflow model folder that
    wraps one (registry download, models/<task>), following the MLmodel file to the artifact.
    `booster` builds the model's trees (default: a lightgbm.Booster)."""
    import yaml

    folder = Path(folder)
    mlmodel = folder / "MLmodel"
    if not mlmodel.exists():
        return _load_either(folder, booster)
    try:
        spec = yaml.safe_load(mlmodel.read_text(encoding="utf-8"))
        inner = spec["flavors"]["python_function"]["artifacts"]["model"]["path"]
    except (KeyError, TypeError, ValueError, OSError, yaml.YAMLError):
        # UnicodeDecodeError is a ValueError: a non-UTF-8 MLmodel is not ours either
        raise ModelError(f"{folder}: an MLflow model, but not a ketapredict one") from None
    target = (folder / str(inner)).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise ModelError(f"{mlmodel}: its model path {inner!r} leads outside the model folder")
    return _load_either(target, booster)


def _load_either(folder: Path, booster: BoosterFactory | None) -> KetaModel | BenefitModel:
    if not (folder / BENEFIT_META_FILE).exists():
        return KetaModel.load(folder, booster=booster)
    return BenefitModel.load(folder, booster=booster)
