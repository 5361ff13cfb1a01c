"""The benefit model that is registered and scored: a weighted sum of LightGBM regression
boosters, which is what the T-, X- and DR-learners with LightGBM models reduce to once fitted
(T: treated minus control outcome model; X: the propensity-weighted pair of effect models;
DR: the final model). Stored as LightGBM text + JSON, never a pickle. Its SHAP contributions
are the same weighted sum of each booster's, so they add up to the estimated benefit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ketapredict.booster import BoosterFactory, lightgbm_booster
from ketapredict.contract import BENEFIT
from ketapredict.errors import ModelError, first_line
from ketapredict.features import BENEFIT_INPUTS as INPUTS
from ketapredict.features import columns_of, matrix_of
from ketapredict.io import write_json, write_text

if TYPE_CHECKING:  # imported where used: scoring loads the trees without the lightgbm package
    import lightgbm as lgb

META_FILE = "benefit_model.json"


@dataclass
class BenefitModel:
    """Estimated benefit (risk difference of response at 24 h, ketamine minus the comparator)
    = intercept + sum of weight x booster prediction."""

    learner: str
    boosters: list[lgb.Booster]  # or any object with its predict (score.trees.Trees)
    weights: list[float]
    intercept: float = 0.0
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    task = BENEFIT  # what scoring (score.predict) asks a model

    @property
    def features(self) -> list[str]:
        return columns_of(INPUTS)

    @property
    def calibration(self) -> dict[str, Any]:
        return {}  # an estimated risk difference, served as estimated

    @property
    def bands(self) -> list[dict[str, Any]]:
        """The benefit bands scoring reports (benefit.patients.bands), lowest first."""
        return list(self.meta.get("bands", []))

    def effect_matrix(self, X: np.ndarray | pd.DataFrame, *, threads: int = 1) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        out = np.full(len(X), self.intercept)
        for booster, weight in zip(self.boosters, self.weights, strict=True):
            # a regression booster's raw score is its prediction
            out = out + weight * booster.predict(X, raw_score=True, num_threads=threads)
        return out

    raw_score = effect_matrix  # the scoring interface of KetaModel: here, the benefit itself

    def contributions(self, X: np.ndarray | pd.DataFrame, *, threads: int = 1) -> np.ndarray:
        """TreeSHAP contributions to the estimated benefit, last column the expected value
        (the intercept included there)."""
        X = np.asarray(X, dtype=np.float64)
        out = np.zeros((len(X), X.shape[1] + 1))
        for booster, weight in zip(self.boosters, self.weights, strict=True):
            out += weight * booster.predict(X, pred_contrib=True, num_threads=threads)
        out[:, -1] += self.intercept
        return out

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Estimated benefit for raw inputs (benefit.data.INPUTS)."""
        return self.effect_matrix(matrix_of(frame, INPUTS, "the benefit model"))

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        for i, booster in enumerate(self.boosters):
            write_text(booster.model_to_string(), folder / f"booster_{i}.txt")
        meta = {
            "learner": self.learner,
            "features": self.features,
            "weights": self.weights,
            "intercept": self.intercept,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "meta": self.meta,
        }
        write_json(meta, folder / META_FILE)

    @classmethod
    def from_fitted(cls, learner: str, fitted: Any, X: np.ndarray) -> BenefitModel:
        return from_fitted(learner, fitted, X)

    @classmethod
    def load(cls, folder: str | Path, *, booster: BoosterFactory | None = None) -> BenefitModel:
        """Read a saved benefit model (LightGBM text and JSON; anything malformed is a
        ModelError naming the folder). `booster` builds the trees from their text (default: a
        lightgbm.Booster)."""
        folder = Path(folder)
        make, refused = (booster, ValueError) if booster else lightgbm_booster()
        try:
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            weights = [float(w) for w in meta["weights"]]
            boosters = [
                make((folder / f"booster_{i}.txt").read_text(encoding="utf-8"))
                for i in range(len(weights))
            ]
            ranges = {k: (float(a), float(b)) for k, (a, b) in meta["ranges"].items()}
            model = cls(
                str(meta["learner"]), boosters, weights, float(meta["intercept"]), ranges,
                dict(meta["meta"]),
            )  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError, refused) as exc:
            raise ModelError(
                f"{folder}: not a ketapredict benefit model ({first_line(exc)})"
            ) from None
        if meta["features"] != model.features:
            raise ModelError(
                f"{folder}: the model's inputs do not match this version's benefit inputs; "
                "retrain it (dvc repro train_benefit) or use a matching ketapredict"
            )
        return model


# The learners whose fitted effect is a weighted sum of LightGBM regression boosters (exact
# SHAP contributions); the T-learner's is a difference of probabilities (through a sigmoid),
# the others are not trees of x at all.
SERVABLE = ("x_learner", "dr_learner")


def servable() -> tuple[str, ...]:
    return SERVABLE


def boosters_of(learner: str, fitted: Any, X: np.ndarray) -> tuple[list[lgb.Booster], list[float]]:
    """The boosters and weights whose weighted sum is a fitted servable learner's estimate."""
    if learner not in SERVABLE:
        raise ModelError(f"{learner}: not servable; choose one of {', '.join(SERVABLE)}")
    est = fitted.parts["model"]
    if learner == "dr_learner":
        return [est.fitted_models_final[0].booster_], [1.0]
    g = float(est.propensity_models[0].predict_proba(X[:1])[0, 1])  # constant: randomized
    boosters = [est.cate_controls_models[0].booster_, est.cate_treated_models[0].booster_]
    return boosters, [g, 1.0 - g]


def from_fitted(learner: str, fitted: Any, X: np.ndarray) -> BenefitModel:
    """The servable form of a fitted learner (benefit.learners.FittedLearner), with the
    training ranges of `X` (the patients it was fitted on, at their model inputs)."""
    boosters, weights = boosters_of(learner, fitted, X)
    columns = columns_of(INPUTS)
    ranges = {
        c: (float(np.nanmin(X[:, j])), float(np.nanmax(X[:, j])))
        for j, c in enumerate(columns)
        if np.isfinite(X[:, j]).any()
    }
    trees = sum(b.num_trees() for b in boosters)
    return BenefitModel(learner, boosters, weights, 0.0, ranges, {"trees": trees})
