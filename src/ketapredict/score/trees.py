"""LightGBM's C library called directly, for predictions only: the `lightgbm` package imports
scikit-learn and SciPy's statistics (over a second of a scoring run's start-up), which
scoring does not use."""

from __future__ import annotations

import ctypes
import importlib.util
import threading
from pathlib import Path

import numpy as np

_FLOAT64, _COL_MAJOR, _ROW_MAJOR = 1, 0, 1  # LightGBM's c_api.h
_RAW_SCORE, _CONTRIB = 1, 3
_lock = threading.Lock()
_lib: ctypes.CDLL | None = None


class TreesError(ValueError):
    """LightGBM refused a model or a prediction (its own message)."""


def _library() -> ctypes.CDLL:
    """The lib_lightgbm the installed `lightgbm` package ships (the same one it loads)."""
    global _lib
    with _lock:
        if _lib is None:
            spec = importlib.util.find_spec("lightgbm")
            if spec is None or not spec.submodule_search_locations:
                raise TreesError("LightGBM is not installed")
            found = [Path(p) / "lib" / "lib_lightgbm.so" for p in spec.submodule_search_locations]
            path = next((p for p in found if p.is_file()), None)
            if path is None:
                raise TreesError(f"no lib_lightgbm.so in {', '.join(map(str, found))}")
            lib = ctypes.cdll.LoadLibrary(str(path))
            lib.LGBM_GetLastError.restype = ctypes.c_char_p
            _lib = lib
        return _lib


def _call(result: int) -> None:
    if result != 0:
        raise TreesError((_library().LGBM_GetLastError() or b"").decode("utf-8", "replace"))


class Trees:
    """A LightGBM model loaded from its text: `predict` makes the C calls that
    `lightgbm.Booster.predict` makes for a 2-D float64 array (all iterations, the same
    parameter string), so its values are bit-identical to the Booster's."""

    def __init__(self, model_str: str) -> None:
        lib = _library()
        self._lib, self._handle = lib, ctypes.c_void_p()
        iterations = ctypes.c_int(0)
        _call(
            lib.LGBM_BoosterLoadModelFromString(
                model_str.encode("utf-8"), ctypes.byref(iterations), ctypes.byref(self._handle)
            )
        )

    def predict(
        self,
        X: np.ndarray,
        *,
        raw_score: bool = False,
        pred_contrib: bool = False,
        num_threads: int = 0,
    ) -> np.ndarray:
        """Log-odds (`raw_score`) or TreeSHAP contributions (`pred_contrib`, rows x
        (columns + 1)); `num_threads` 0: LightGBM's default."""
        if not (raw_score or pred_contrib):
            raise TreesError("Trees predicts raw scores or contributions only")
        X = np.asarray(X)
        if X.ndim != 2:
            raise TreesError("predict takes a 2-D array")
        layout = _COL_MAJOR if X.flags["F_CONTIGUOUS"] else _ROW_MAJOR
        data = np.asarray(X, dtype=np.float64, order="F" if layout == _COL_MAJOR else "C")
        kind, rows = _CONTRIB if pred_contrib else _RAW_SCORE, X.shape[0]
        size = ctypes.c_int64(0)
        _call(
            self._lib.LGBM_BoosterCalcNumPredict(
                self._handle, ctypes.c_int(rows), ctypes.c_int(kind), ctypes.c_int(0),
                ctypes.c_int(-1), ctypes.byref(size),
            )
        )  # fmt: skip
        out = np.empty(size.value, dtype=np.float64)
        written = ctypes.c_int64(0)
        _call(
            self._lib.LGBM_BoosterPredictForMat(
                self._handle, data.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(_FLOAT64),
                ctypes.c_int32(rows), ctypes.c_int32(X.shape[1]), ctypes.c_int(layout),
                ctypes.c_int(kind), ctypes.c_int(0), ctypes.c_int(-1),
                f"num_threads={num_threads}".encode(), ctypes.byref(written),
                out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
            )
        )  # fmt: skip
        if written.value != size.value:
            raise TreesError("LightGBM wrote a prediction of the wrong length")
        return out.reshape(rows, X.shape[1] + 1) if pred_contrib else out

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None and self._handle.value:
            self._lib.LGBM_BoosterFree(self._handle)
