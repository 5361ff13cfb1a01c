"""Training: grouped CV tuning of LightGBM with early stopping, a calibration choice made on
out-of-fold predictions, and the logistic-regression baseline. Pure: data in, models out."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy import special
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from ketapredict import metrics, parallel
from ketapredict.config import SearchSpace, TrainParams
from ketapredict.contract import Task
from ketapredict.errors import ModelError
from ketapredict.metrics.logistic import fit_logistic
from ketapredict.model import KetaModel, apply_calibration, fingerprint

# Every fit is single-threaded: LightGBM's trees are identical for any thread count, and
# OpenMP threads spin-waiting for descheduled peers make a multi-threaded fit collapse on a
# busy machine (measured 17x slower with another job running). Parallelism comes from
# processes, one fit each (ketapredict.parallel), so results never depend on the worker count.
THREADS = 1


@dataclass(frozen=True)
class Procedure:
    """The training procedure's settings beyond the search: what a refit repeats."""

    seed: int
    cv_folds: int
    max_trees: int
    early_stopping_rounds: int

    @classmethod
    def of(cls, train: TrainParams) -> Procedure:
        return cls(train.seed, train.cv_folds, train.max_trees, train.early_stopping_rounds)


@dataclass(frozen=True)
class Tuning:
    """What cross-validation chose, and why."""

    params: dict[str, Any]
    n_trees: int
    calibration: dict[str, Any]
    candidates: pd.DataFrame
    calibration_scores: dict[str, float]
    oof: np.ndarray  # out-of-fold log-odds of the chosen candidate
    oof_proba: np.ndarray  # through the chosen map, cross-fitted: no row calibrates itself


def folds(
    y: np.ndarray, groups: np.ndarray, *, n_folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified, grouped (a patient never on both sides), seeded CV folds: whole groups are
    dealt to folds by StratifiedKFold on each group's outcome (none, some, all rows events).
    scikit-learn's StratifiedGroupKFold gives the same guarantees, but its greedy search is
    quadratic in the number of groups: 11 of a 14-second refit on 16,680 patients."""
    _, owner = np.unique(groups, return_inverse=True)
    events, rows = np.bincount(owner, weights=y), np.bincount(owner)
    stratum = np.where(events == 0, 0, np.where(events == rows, 2, 1))
    if np.sum(stratum == 1) < n_folds:  # too few mixed groups to spread: by majority instead
        stratum = np.where(stratum == 1, np.where(2 * events >= rows, 2, 0), stratum)
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    out = []
    for _, held_groups in splitter.split(np.zeros(len(stratum)), stratum):
        held = np.isin(owner, held_groups)
        out.append((np.flatnonzero(~held), np.flatnonzero(held)))
    return out


def draw_candidates(space: SearchSpace, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Distinct random draws from the grid (all of it if it is smaller than asked)."""
    grid = [
        {
            "num_leaves": a,
            "learning_rate": b,
            "min_child_samples": c,
            "reg_lambda": d,
            "feature_fraction": e,
        }
        for a in space.num_leaves
        for b in space.learning_rate
        for c in space.min_child_samples
        for d in space.reg_lambda
        for e in space.feature_fraction
    ]
    pick = rng.permutation(len(grid))[: space.candidates]
    return [grid[i] for i in sorted(pick)]


def lgb_params(candidate: dict[str, Any], seed: int) -> dict[str, Any]:
    return {
        "objective": "binary",
        "verbosity": -1,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": THREADS,
        "feature_fraction_seed": seed,
        **candidate,
    }


def _cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    cv: list,
    params: dict[str, Any],
    procedure: Procedure,
) -> tuple[np.ndarray, list[int], float]:
    """Out-of-fold log-odds of one candidate, each fold stopped early on its own held-out part."""
    oof = np.zeros(len(y))
    best: list[int] = []
    for fit_idx, val_idx in cv:
        data = lgb.Dataset(X[fit_idx], y[fit_idx], weight=w[fit_idx], free_raw_data=True)
        valid = lgb.Dataset(X[val_idx], y[val_idx], weight=w[val_idx], reference=data)
        booster = lgb.train(
            params,
            data,
            num_boost_round=procedure.max_trees,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(procedure.early_stopping_rounds, verbose=False)],
        )
        best.append(booster.best_iteration)
        oof[val_idx] = booster.predict(
            X[val_idx], num_iteration=booster.best_iteration, raw_score=True
        )
    return oof, best, float(metrics.log_loss(y, special.expit(oof), w))


def fit_calibration(method: str, raw: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    if method == "sigmoid":
        (b, a), *_ = _platt(raw, y, w[None, :])
        return {"method": "sigmoid", "a": float(a), "b": float(b)}
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1 - 1e-6)
        iso.fit(special.expit(raw), y, sample_weight=w)
        return {
            "method": "isotonic",
            "x": iso.X_thresholds_.tolist(),
            "y": iso.y_thresholds_.tolist(),
        }
    return {"method": "none"}


def _platt(raw: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Platt scaling's (intercept, slope) of y on the raw scores, one row per row of weights
    (B, n): an unpenalised logistic fit by Newton's method, all folds in one batched pass.
    A row that does not converge (separable scores) falls back to a lightly penalised fit."""
    design = np.column_stack([np.ones_like(raw), raw])
    beta, _ = fit_logistic(design, y, weights)
    for i in np.flatnonzero(~np.isfinite(beta).all(axis=1)):
        lr = LogisticRegression(C=1e6).fit(raw[:, None], y, sample_weight=weights[i])
        beta[i] = lr.intercept_[0], lr.coef_[0, 0]
    return beta


def choose_calibration(
    oof: np.ndarray, y: np.ndarray, w: np.ndarray, cv: list
) -> tuple[str, dict[str, float], np.ndarray]:
    """Cross-fitted Brier score of each calibration map on the out-of-fold scores; a map is
    applied only if it beats no calibration. Also the chosen map's cross-fitted probabilities."""
    proba = {"none": special.expit(oof)}
    in_fit = np.zeros((len(cv), len(y)))
    for i, (fit_idx, _) in enumerate(cv):
        in_fit[i, fit_idx] = w[fit_idx]
    proba["sigmoid"], proba["isotonic"] = np.zeros(len(y)), np.zeros(len(y))
    for (b, a), (fit_idx, val_idx) in zip(_platt(oof, y, in_fit), cv, strict=True):
        proba["sigmoid"][val_idx] = special.expit(a * oof[val_idx] + b)
        cal = fit_calibration("isotonic", oof[fit_idx], y[fit_idx], w[fit_idx])
        proba["isotonic"][val_idx] = apply_calibration(cal, oof[val_idx])
    scores = {m: float(metrics.brier(y, p, w)) for m, p in proba.items()}
    best = min(scores, key=lambda m: (scores[m], m != "none"))
    return best, scores, proba[best]


def fit_procedure(
    X: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray,
    groups: np.ndarray,
    procedure: Procedure,
    *,
    candidates: list[dict[str, Any]],
    workers: int = 1,
) -> tuple[Tuning, lgb.Booster]:
    """The whole training procedure: grouped CV of each candidate (in `workers` processes, one
    thread each), the lowest out-of-fold log loss wins, the calibration map is chosen and
    fitted on its out-of-fold scores, then the final fit on all rows. Evaluation's refits call
    this with the chosen candidate only: everything but the hyperparameter search is repeated."""
    cv = folds(y, groups, n_folds=procedure.cv_folds, seed=procedure.seed)
    Xa = X.to_numpy(dtype=np.float64)
    results = parallel.map_ordered(
        _cross_validate,
        [(Xa, y, w, cv, lgb_params(c, procedure.seed), procedure) for c in candidates],
        workers=workers,
        # the search, not the refits evaluation repeats with the chosen candidate
        progress=f"cross-validating {len(candidates)} candidates" if len(candidates) > 1 else None,
    )
    rows = [
        {**c, "cv_log_loss": loss, "trees": int(np.mean(best))}
        for c, (_, best, loss) in zip(candidates, results, strict=True)
    ]
    table = pd.DataFrame(rows)
    i = int(table["cv_log_loss"].idxmin())
    oof = results[i][0]
    method, scores, oof_proba = choose_calibration(oof, y, w, cv)
    calibration = fit_calibration(method, oof, y, w)
    trees = max(1, rows[i]["trees"])
    tuning = Tuning(candidates[i], trees, calibration, table, scores, oof, oof_proba)
    return tuning, train_booster(tuning.params, trees, X, y, w, seed=procedure.seed)


def train_booster(
    params: dict[str, Any],
    trees: int,
    X: pd.DataFrame | np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None = None,
    *,
    seed: int,
    threads: int = THREADS,
) -> lgb.Booster:
    """The final fit with chosen hyperparameters: the champion's, and each refit that
    evaluation resamples."""
    names = list(X.columns) if isinstance(X, pd.DataFrame) else "auto"
    data = lgb.Dataset(np.asarray(X, dtype=np.float64), y, weight=w, feature_name=names)
    config = {**lgb_params(params, seed), "num_threads": threads}
    return lgb.train(config, data, num_boost_round=trees)


def refit(model: KetaModel) -> Callable[..., np.ndarray]:
    """fit_predict(X, y, w, groups, X_eval) for evaluation's resampling: the training
    procedure that produced `model`, repeated on other rows: grouped CV with
    early stopping, the calibration choice and its cross-fitted map, the final fit. Only the
    hyperparameter search is not repeated (the chosen candidate is reused), so the optimism
    estimate leaves out the search's own optimism."""
    if "procedure" not in model.meta:
        raise ModelError("the model's metadata lacks its training procedure; retrain it")
    procedure = Procedure(**model.meta["procedure"])
    return functools.partial(_fit_predict, procedure, model.meta["params"])


def _fit_predict(
    procedure: Procedure,
    candidate: dict[str, Any],
    X: pd.DataFrame,
    y: np.ndarray,
    w: np.ndarray,
    groups: np.ndarray,
    X_eval: pd.DataFrame,
) -> np.ndarray:
    tuning, booster = fit_procedure(X, y, w, groups, procedure, candidates=[candidate])
    raw = booster.predict(np.asarray(X_eval, dtype=np.float64), raw_score=True)
    return apply_calibration(tuning.calibration, raw)


def package(booster: lgb.Booster, X: pd.DataFrame, tuning: Tuning, *, task: Task) -> KetaModel:
    """The fitted procedure as the model every stage shares, with its training ranges."""
    ranges = {
        c: (float(np.nanmin(X[c])), float(np.nanmax(X[c]))) for c in X.columns if X[c].notna().any()
    }
    return KetaModel(
        task, booster, tuning.calibration, ranges, seen=fingerprint(X), seen_oof=tuning.oof_proba
    )
