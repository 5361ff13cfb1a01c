"""Prognostic or predictive? Each characteristic labelled from what drives the models, and the
labels scored against the truth's roles.

A characteristic is *predictive* when its SHAP importance in the benefit model exceeds what
the same learner finds with the arms permuted within each design (no one benefits more than
another there), and *prognostic* when its importance in a response model, read off with every
patient on the comparator, exceeds what that model finds with the outcomes permuted within
each design. The threshold is the 95th percentile of the largest null importance over all
characteristics (max-T, Westfall and Young 1993), so the chance that any characteristic
without an effect is labelled is about 5 % at most.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketapredict.cohort.effects import EffectModel
from ketapredict.features import Feature

LABELS = ("both", "predictive", "prognostic", "neither")


def importance_by_input(contributions: np.ndarray, columns: list[str], inputs: list[Feature]):
    """Mean |SHAP| per raw input (one-hot columns summed per patient first); `contributions`
    (patients, columns[, + expected value]) on the model's output scale."""
    values = np.abs(_by_input(contributions[:, : len(columns)], columns, inputs))
    return pd.Series(values.mean(axis=0), index=[f.name for f in inputs])


def _by_input(contributions: np.ndarray, columns: list[str], inputs: list[Feature]):
    out = np.zeros((len(contributions), len(inputs)))
    for j, column in enumerate(columns):
        for i, f in enumerate(inputs):
            if column == f.name or (f.kind == "category" and column.startswith(f"{f.name}_")):
                out[:, i] += contributions[:, j]
                break
    return out


def permuted_within(groups: np.ndarray, values: np.ndarray, rng: np.random.Generator):
    """`values` shuffled within each group (design): its share kept, its link to the rest cut."""
    out = values.copy()
    for g in pd.unique(groups):
        idx = np.flatnonzero(groups == g)
        out[idx] = values[rng.permutation(idx)]
    return out


def label(predictive: pd.Series, prognostic: pd.Series, p_cut: float, q_cut: float):
    """Each input's label from its importances and the two null thresholds."""
    is_p = predictive.reindex(prognostic.index).fillna(0) > p_cut
    is_q = prognostic > q_cut
    names = np.where(
        is_p & is_q, "both", np.where(is_p, "predictive", np.where(is_q, "prognostic", "neither"))
    )
    return pd.Series(names, index=prognostic.index)


def true_roles(model: EffectModel, inputs: list[str], hours: float = 24.0) -> pd.Series:
    """Each input's role in the generator's response model at `hours` after the dose: both,
    predictive, prognostic or neither. A term whose weight is 0 then (e.g. a prior suicide
    attempt, which acts by day 7) gives no role."""
    roles: dict[str, set[str]] = {name: set() for name in inputs}
    r = model.response
    for role, terms in (("prognostic", r.prognostic), ("predictive", r.predictive)):
        for term in terms:
            if abs(term.coef * float(term.profile(np.array([hours]))[0])) < 1e-12:
                continue
            for name in term.covariates:
                if name in roles:
                    roles[name].add(role)
    return pd.Series(
        {
            name: "both" if len(r) == 2 else (next(iter(r)) if r else "neither")
            for name, r in roles.items()
        }
    )


def score(labels: pd.Series, truth: pd.Series) -> dict[str, float | int]:
    """Sensitivity and false-discovery share of the predictive labels (and the prognostic),
    and the share of characteristics without a true predictive effect labelled predictive."""
    truth = truth.reindex(labels.index).fillna("neither")
    out: dict[str, float | int] = {}
    for role in ("predictive", "prognostic"):
        said = labels.isin([role, "both"])
        real = truth.isin([role, "both"])
        out[f"{role}_labelled"] = int(said.sum())
        out[f"{role}_true"] = int(real.sum())
        out[f"{role}_sensitivity"] = (
            float((said & real).sum() / real.sum()) if real.any() else np.nan
        )
        out[f"{role}_false_discovery"] = (
            float((said & ~real).sum() / said.sum()) if said.any() else 0.0
        )
        out[f"{role}_false_positive_rate"] = (
            float((said & ~real).sum() / (~real).sum()) if (~real).any() else np.nan
        )
    return out
