"""Treatment-benefit learners for randomized trials with a binary response: each fits on a
trial's rows and estimates, for given patient characteristics, the benefit of treatment as a
risk difference P(response | treated, x) − P(response | control, x), cross-fitted by patient."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ketapredict.errors import DataError
from ketapredict.train import THREADS
from ketapredict.train import folds as grouped_folds

if TYPE_CHECKING:
    from lightgbm import LGBMRegressor
    from sklearn.dummy import DummyClassifier


@dataclass(frozen=True)
class BenefitData:
    """A randomized trial's rows: characteristics, arm, response and patient. A crossover
    patient has two rows (one per arm), so folds are always dealt by patient."""

    X: np.ndarray  # (n, p) float64 effect modifiers; NaN = missing
    treated: np.ndarray  # (n,) 0/1
    y: np.ndarray  # (n,) 0/1 response
    groups: np.ndarray  # (n,) patient id
    names: list[str]  # column names of X

    def __post_init__(self) -> None:
        n = len(self.y)
        if self.X.ndim != 2 or self.X.shape != (n, len(self.names)):
            raise DataError(
                f"benefit data: X is {self.X.shape} but there are {n} responses and "
                f"{len(self.names)} column names; pass one row and one name per column"
            )
        if len(self.treated) != n or len(self.groups) != n:
            raise DataError("benefit data: treated, y and groups must have one entry per row")
        for label, values in (("treated", self.treated), ("y", self.y)):
            if not np.isin(values, (0, 1)).all():
                raise DataError(f"benefit data: {label} must be 0 or 1 on every row")

    def take(self, rows: np.ndarray) -> BenefitData:
        """The same trial restricted to `rows`."""
        return BenefitData(
            self.X[rows], self.treated[rows], self.y[rows], self.groups[rows], self.names
        )


@dataclass(frozen=True)
class FittedLearner:
    """A fitted benefit learner: its name, the columns it was fitted on, and the fitted parts
    its effect reads (what `ketapredict.benefit.persist` saves)."""

    name: str
    names: tuple[str, ...]
    parts: dict[str, Any]

    def effect(self, X: np.ndarray) -> np.ndarray:
        """The estimated benefit (risk difference, treated − control) of each row of X; for
        "prognostic", its ranking score (see `fit_prognostic`)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.names):
            raise DataError(
                f"{self.name}: X has shape {X.shape}; the learner was fitted on "
                f"{len(self.names)} columns ({', '.join(self.names[:5])}, ...)"
            )
        with _quiet():
            return np.asarray(_EFFECTS[self.name](self, X), dtype=np.float64).reshape(-1)


# Every LightGBM inside a learner: single-threaded and deterministic like the project's other
# fits (ketapredict.train), and small: ~9,000 noisy binary responses support few, shallow trees.
# 63 histogram bins instead of 255 halve the time of each fit (measured on 9,000 rows).
LGBM = {
    "n_estimators": 200,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 40,
    "max_bin": 63,
    "n_jobs": THREADS,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
NUISANCE_FOLDS = 3  # the DR learner's and causal forest's own (grouped) cross-fitting
# The causal forest: 400 trees on 20 % subsamples, sqrt(p) candidate features per split. The
# most expensive learner (~4 s a fit on 9,000 rows, benchmarks/bench_benefit_learners.py):
# 30 % subsamples ranked no better and cost 1.5x; they shrink the estimates a little less.
FOREST = {
    "n_estimators": 400,
    "max_samples": 0.2,
    "max_features": "sqrt",
    "min_samples_leaf": 10,
}


def outcome_model(seed: int) -> LGBMRegressor:
    """A response model whose `predict` is a probability: LightGBM's cross-entropy objective
    fits the binary log-likelihood on 0/1 labels, as a classifier would, but through the
    regressor API, which is what econml's learners call `predict` on."""
    from lightgbm import LGBMRegressor

    return LGBMRegressor(objective="cross_entropy", random_state=seed, **LGBM)


def effect_model(seed: int) -> LGBMRegressor:
    """A model of a continuous pseudo-outcome (imputed or doubly robust effects): least squares."""
    from lightgbm import LGBMRegressor

    return LGBMRegressor(objective="regression", random_state=seed, **LGBM)


def constant_propensity() -> DummyClassifier:
    """Treatment is randomized: the propensity is the treated share, whatever x is."""
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="prior")


def fit_prognostic(data: BenefitData, *, seed: int) -> dict[str, Any]:
    """The naive approach: a LightGBM classifier of response fitted on treated rows only. Its
    "benefit" is the predicted response under treatment, not a difference of two arms: a score
    to rank patients by, which favours those who would respond on the comparator as well."""
    from lightgbm import LGBMClassifier

    on = data.treated == 1
    model = LGBMClassifier(random_state=seed, **LGBM).fit(data.X[on], data.y[on])
    return {"model": model}


def fit_risk_strata(data: BenefitData, *, seed: int) -> dict[str, Any]:
    """PATH risk modelling: a logistic model of baseline risk fitted on all rows, blind to the
    arm (the project's logistic baseline); rows are cut into quarters of that risk, and each
    quarter's benefit is its observed response rate on treatment minus that on control."""
    from ketapredict.baseline import fit_baseline

    risk = fit_baseline(_frame(data.X, data.names), data.y, np.ones(len(data.y)))
    p = risk.predict_proba(_frame(data.X, data.names))[:, 1]
    cuts = np.quantile(p, [0.25, 0.5, 0.75])
    quarter = np.digitize(p, cuts)
    benefit = np.zeros(4)
    for q in range(4):
        arms = [data.y[(quarter == q) & (data.treated == arm)] for arm in (1, 0)]
        if min(len(a) for a in arms) == 0:
            raise DataError(f"risk_strata: risk quarter {q + 1} lacks rows of one arm")
        benefit[q] = arms[0].mean() - arms[1].mean()
    return {"risk": risk, "cuts": cuts, "benefit": benefit}


def fit_t_learner(data: BenefitData, *, seed: int) -> dict[str, Any]:
    """One response model per arm; benefit = the difference of their predictions."""
    from econml.metalearners import TLearner

    est = TLearner(models=outcome_model(seed), allow_missing=True)
    est.fit(data.y, data.treated, X=data.X)
    return {"model": est}


def fit_x_learner(data: BenefitData, *, seed: int) -> dict[str, Any]:
    """Per-arm response models, then models of each arm's imputed individual effects, blended
    by the (constant) propensity."""
    from econml.metalearners import XLearner

    est = XLearner(
        models=outcome_model(seed),
        cate_models=effect_model(seed),
        propensity_model=constant_propensity(),
        allow_missing=True,
    )
    est.fit(data.y, data.treated, X=data.X)
    return {"model": est}


def fit_dr_learner(data: BenefitData, *, seed: int) -> dict[str, Any]:
    """Doubly robust pseudo-outcomes from cross-fitted response models (folds by patient) and
    the constant propensity, regressed on x."""
    from econml.dr import DRLearner

    est = DRLearner(
        model_propensity=constant_propensity(),
        model_regression=outcome_model(seed),
        model_final=effect_model(seed),
        cv=_nuisance_folds(data, seed),
        random_state=seed,
        allow_missing=True,
    )
    est.fit(data.y, data.treated, X=data.X, groups=data.groups, inference=None)
    return {"model": est}


def fit_causal_forest(data: BenefitData, *, seed: int) -> dict[str, Any]:
    """A causal forest on residualized response and arm (response model cross-fitted by
    patient, constant propensity), kept as plain arrays (ketapredict.benefit.forest) beside
    the training medians that stand in for missing values: the forest needs finite x. econml
    subsamples the forest's rows one by one (its groups reach only the response model's
    folds), so a crossover patient's two rows may land in different trees' halves."""
    from ketapredict.benefit.forest import forest_arrays

    est, medians = causal_forest_dml(data, seed=seed)
    return {"medians": medians, **forest_arrays(est)}


def causal_forest_dml(data: BenefitData, *, seed: int) -> tuple[Any, np.ndarray]:
    """The fitted econml CausalForestDML behind "causal_forest", and its imputation medians."""
    from econml.dml import CausalForestDML

    medians = np.nan_to_num(_nanmedian(data.X), nan=0.0)
    est = CausalForestDML(
        model_y=outcome_model(seed),
        model_t=constant_propensity(),
        discrete_treatment=True,
        drate=False,  # no average effect at fit time: it costs a second pass over the trees
        cv=_nuisance_folds(data, seed),
        inference=False,
        n_jobs=THREADS,
        random_state=seed,
        **FOREST,
    )
    with _quiet():
        est.fit(data.y, data.treated, X=impute(data.X, medians), groups=data.groups, inference=None)
    return est, medians


_FITS: dict[str, Callable[..., dict[str, Any]]] = {
    "prognostic": fit_prognostic,
    "risk_strata": fit_risk_strata,
    "t_learner": fit_t_learner,
    "x_learner": fit_x_learner,
    "dr_learner": fit_dr_learner,
    "causal_forest": fit_causal_forest,
}
LEARNERS: tuple[str, ...] = tuple(_FITS)


def fit_learner(name: str, data: BenefitData, *, seed: int) -> FittedLearner:
    """Fit the learner `name` on every row of `data`. Deterministic: the same data and seed
    give the same estimates, bit for bit."""
    if name not in _FITS:
        raise DataError(f"unknown benefit learner {name!r}; choose one of {', '.join(LEARNERS)}")
    for label, values in (("arm", data.treated), ("response", data.y)):
        if len(np.unique(values)) < 2:
            raise DataError(f"{name}: every row has the same {label}; a benefit needs both")
    with _quiet():
        parts = _FITS[name](data, seed=seed)
    return FittedLearner(name, tuple(data.names), parts)


def benefit_folds(
    data: BenefitData, *, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded folds of the rows, dealt by patient (a patient is never on both sides) and
    stratified by response: the training procedure's own folds (ketapredict.train.folds)."""
    return grouped_folds(data.y, data.groups, n_folds=folds, seed=seed)


def cross_fitted_effect(name: str, data: BenefitData, *, folds: int, seed: int) -> np.ndarray:
    """Out-of-fold benefit of every row: each fold's rows estimated by the learner fitted on
    the other folds' patients."""
    out = np.full(len(data.y), np.nan)
    for fit_rows, held_rows in benefit_folds(data, folds=folds, seed=seed):
        out[held_rows] = fit_learner(name, data.take(fit_rows), seed=seed).effect(data.X[held_rows])
    return out


def _nuisance_folds(data: BenefitData, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds econml cross-fits its response model on, fixed here (grouped, seeded) rather
    than drawn inside econml, whose StratifiedGroupKFold took 1.4 s of each fit on 9,000
    rows."""
    return benefit_folds(data, folds=NUISANCE_FOLDS, seed=seed)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """econml warns of every NaN in x; LightGBM handles them, and in a randomized trial
    missingness cannot confound the contrast of the arms."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*contains NaN", category=UserWarning)
        yield


def _nanmedian(X: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="All-NaN slice", category=RuntimeWarning)
        return np.nanmedian(X, axis=0)


def impute(X: np.ndarray, medians: np.ndarray) -> np.ndarray:
    """X with each missing value replaced by its column's training median."""
    return np.where(np.isnan(X), medians, X)


def _frame(X: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(X, columns=list(names))


def _risk_strata_effect(fitted: FittedLearner, X: np.ndarray) -> np.ndarray:
    p = fitted.parts["risk"].predict_proba(_frame(X, fitted.names))[:, 1]
    return fitted.parts["benefit"][np.digitize(p, fitted.parts["cuts"])]


def _forest_effect(fitted: FittedLearner, X: np.ndarray) -> np.ndarray:
    from ketapredict.benefit.forest import forest_effect

    return forest_effect(fitted.parts, impute(X, fitted.parts["medians"]))


_EFFECTS: dict[str, Callable[[FittedLearner, np.ndarray], np.ndarray]] = {
    "prognostic": lambda f, X: f.parts["model"].predict_proba(X)[:, 1],
    "risk_strata": _risk_strata_effect,
    "t_learner": lambda f, X: f.parts["model"].effect(X),
    "x_learner": lambda f, X: f.parts["model"].effect(X),
    "dr_learner": lambda f, X: f.parts["model"].effect(X),
    "causal_forest": _forest_effect,
}
