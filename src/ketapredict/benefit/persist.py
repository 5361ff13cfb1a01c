"""A fitted benefit learner's files: its fitted parts in skops (no pickle) written the same way
every time, loaded trusting only the types that learner holds, and a JSON note of what it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ketapredict.baseline import canonical, load_trusted
from ketapredict.benefit.forest import check_forest
from ketapredict.benefit.learners import LEARNERS, FittedLearner
from ketapredict.errors import ModelError
from ketapredict.io import write_bytes, write_text

LEARNER_FILE = "benefit_learner.skops"
ABOUT_FILE = "benefit_learner.json"

# Per learner, the types outside skops' own safe defaults that its fitted parts hold (found with
# skops.io.get_untrusted_types on a fitted learner; econml is pinned, so its private class
# names are stable). Only these are trusted: a file listing anything else is refused before any
# object in it is built, since skops builds whatever types it is told to trust.
_LIGHTGBM = ("collections.OrderedDict", "lightgbm.basic.Booster")
PROGNOSTIC_TYPES = (*_LIGHTGBM, "lightgbm.sklearn.LGBMClassifier")
RISK_STRATA_TYPES = ("numpy.dtype",)  # the logistic baseline's pipeline
T_LEARNER_TYPES = (
    *_LIGHTGBM,
    "econml.metalearners._metalearners.TLearner",
    "lightgbm.sklearn.LGBMRegressor",
)
X_LEARNER_TYPES = (
    *_LIGHTGBM,
    "econml.metalearners._metalearners.XLearner",
    "lightgbm.sklearn.LGBMRegressor",
)
DR_LEARNER_TYPES = (
    *_LIGHTGBM,
    "econml.dr._drlearner.DRLearner",
    "econml.dr._drlearner._ModelFinal",
    "econml.dr._drlearner._ModelNuisance",
    "econml.sklearn_extensions.model_selection.FixedModelSelector",
    "econml.validate.sensitivity_analysis.SensitivityParams",
    "lightgbm.sklearn.LGBMRegressor",
)
CAUSAL_FOREST_TYPES: tuple[str, ...] = ()  # plain arrays (ketapredict.benefit.forest)
LEARNER_TYPES: dict[str, tuple[str, ...]] = {
    "prognostic": PROGNOSTIC_TYPES,
    "risk_strata": RISK_STRATA_TYPES,
    "t_learner": T_LEARNER_TYPES,
    "x_learner": X_LEARNER_TYPES,
    "dr_learner": DR_LEARNER_TYPES,
    "causal_forest": CAUSAL_FOREST_TYPES,
}
FIX = "refit it and save it again"


def save_learner(fitted: FittedLearner, folder: Path) -> None:
    """Write `fitted` into `folder`: the same fit gives the same bytes."""
    import skops.io

    folder = Path(folder)
    about = {"learner": fitted.name, "names": list(fitted.names)}
    write_text(json.dumps(about, indent=2) + "\n", folder / ABOUT_FILE)
    write_bytes(canonical(skops.io.dumps(fitted.parts)), folder / LEARNER_FILE)


def load_learner(folder: Path) -> FittedLearner:
    """The learner saved in `folder`. Only the types that kind of learner holds are trusted;
    any other type in the file, or parts that are not that learner's, is a ModelError."""
    name, names = _read_about(Path(folder) / ABOUT_FILE)
    path = Path(folder) / LEARNER_FILE
    parts = load_trusted(
        path, LEARNER_TYPES[name], what=f"{name} learner", holder=f"a {name} learner", fix=FIX
    )
    _check_parts(name, parts, len(names), path)
    return FittedLearner(name, names, parts)


def _read_about(path: Path) -> tuple[str, tuple[str, ...]]:
    try:
        about = json.loads(path.read_text(encoding="utf-8"))
        name, names = about["learner"], about["names"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{path}: not a benefit learner's description ({exc}); {FIX}") from None
    if name not in LEARNERS or not all(isinstance(n, str) for n in names):
        raise ModelError(f"{path}: names no known benefit learner ({name!r}); {FIX}")
    return name, tuple(names)


def _check_parts(name: str, parts: Any, n_features: int, path: Path) -> None:
    """The loaded parts are the ones `name`'s effect reads, of the right kinds."""
    expected = _expected_parts(name)
    if not isinstance(parts, dict) or set(parts) != set(expected):
        raise ModelError(f"{path}: does not hold a {name} learner's parts; {FIX}")
    for key, kind in expected.items():
        if not isinstance(parts[key], kind):
            raise ModelError(f"{path}: its {key!r} is a {type(parts[key]).__name__}; {FIX}")
    if name == "risk_strata" and (parts["cuts"].shape != (3,) or parts["benefit"].shape != (4,)):
        raise ModelError(f"{path}: risk strata need 3 cut points and 4 benefits; {FIX}")
    if name == "causal_forest":
        if parts["medians"].shape != (n_features,) or parts["medians"].dtype.kind != "f":
            raise ModelError(f"{path}: the forest's medians are not one per column; {FIX}")
        try:
            check_forest(parts, n_features)
        except ModelError as exc:
            raise ModelError(f"{path}: {exc}; {FIX}") from None


def _expected_parts(name: str) -> dict[str, type | tuple[type, ...]]:
    from econml.dr import DRLearner
    from econml.metalearners import TLearner, XLearner
    from lightgbm import LGBMClassifier
    from sklearn.pipeline import Pipeline

    from ketapredict.benefit.forest import FOREST_KEYS

    return {
        "prognostic": {"model": LGBMClassifier},
        "risk_strata": {"risk": Pipeline, "cuts": np.ndarray, "benefit": np.ndarray},
        "t_learner": {"model": TLearner},
        "x_learner": {"model": XLearner},
        "dr_learner": {"model": DRLearner},
        "causal_forest": {k: np.ndarray for k in ("medians", *FOREST_KEYS)},
    }[name]
