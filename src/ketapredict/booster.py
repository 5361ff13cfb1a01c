"""How a saved model's trees are built from their LightGBM text: by a lightgbm.Booster (training,
evaluation, explanation) or by any factory with its predict (scoring: score.trees.Trees)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BoosterFactory = Callable[[str], Any]


def lightgbm_booster() -> tuple[BoosterFactory, type[Exception]]:
    """A lightgbm.Booster from a model's text, and the error LightGBM refuses one with.
    LightGBM is imported here, when a model is loaded: its import brings scikit-learn and
    SciPy's statistics (over a second), which scoring does without."""
    import lightgbm as lgb

    return (lambda text: lgb.Booster(model_str=text)), lgb.basic.LightGBMError
