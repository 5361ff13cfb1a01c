"""Each benefit learner explained with SHAP, on its own scale (the estimated benefit; the naive
learner's, its predicted response on ketamine): exact TreeSHAP where the learner is a weighted
sum of LightGBM boosters (benefit.model: the X- and DR-learners), shap's permutation explainer
of the estimate elsewhere (T-learner: a difference of two models' probabilities; risk strata;
causal forest; the naive score). What the MLflow run of each learner shows, and what
reports/train/benefit.json compares across learners."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketapredict.benefit.learners import FittedLearner
from ketapredict.benefit.model import BenefitModel, boosters_of, servable
from ketapredict.benefit.roles import importance_by_input
from ketapredict.explain import Shap
from ketapredict.features import BENEFIT_DESIGN, BENEFIT_INPUTS, columns_of

# Patients explained and background patients (the permutation explainer's reference), one
# antithetic permutation per patient (2p + 1 evaluations, each over the background). The
# causal forest is the slowest: ~10 s at these sizes (~34 s at 200 and 25). Mean |SHAP| is an
# average over patients: its ranking of the characteristics is what the report compares.
PATIENTS, BACKGROUND = 120, 20
IMPORTANCE_FILE = "importance.json"  # each learner's, beside the fitted learners
CHARACTERISTICS = [f for f in BENEFIT_INPUTS if f not in BENEFIT_DESIGN]


def sample(X: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded, disjoint samples of patients to explain and to use as background."""
    order = np.random.default_rng(seed).permutation(len(X))
    return X[np.sort(order[:PATIENTS])], X[np.sort(order[PATIENTS : PATIENTS + BACKGROUND])]


def shap_values(fitted: FittedLearner, X: np.ndarray, background: np.ndarray, *, seed: int) -> Shap:
    """SHAP values of `fitted`'s estimate at X, per model column (SHAP values + base = the
    estimate: exactly, or up to the background's average for the permutation explainer)."""
    columns = list(fitted.names)
    data = pd.DataFrame(X, columns=columns)
    if fitted.name in servable():
        boosters, weights = boosters_of(fitted.name, fitted, X)
        values = BenefitModel(fitted.name, boosters, weights).contributions(X)
        return Shap(values[:, :-1], float(values[0, -1]), columns, data)
    import shap

    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.PermutationExplainer(fitted.effect, masker, seed=seed)
    found = explainer(X, max_evals=2 * X.shape[1] + 1, silent=True)
    return Shap(np.asarray(found.values), float(np.ravel(found.base_values)[0]), columns, data)


def importance(values: Shap) -> pd.Series:
    """Mean |SHAP| per characteristic (one-hot columns summed per patient first; the design's
    comparator and crossover period are not characteristics), largest first."""
    columns = columns_of(BENEFIT_INPUTS)
    out = importance_by_input(values.values, columns, CHARACTERISTICS)
    return out.sort_values(ascending=False, kind="stable")


def top_share(importance: pd.Series, truth: pd.Series, role: str = "predictive") -> float:
    """Of the k characteristics a learner's estimate leans on most (k: how many truly have
    `role`, or 'both'), the share that truly have it: 1 when its SHAP ranking puts the true
    effect modifiers first."""
    real = truth.isin([role, "both"])
    k = int(real.sum())
    if k == 0:
        return float("nan")
    top = importance.reindex(truth.index).fillna(0).sort_values(ascending=False, kind="stable")
    return float(real[top.index[:k]].mean())
