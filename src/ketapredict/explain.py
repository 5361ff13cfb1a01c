"""SHAP explanations of the tree models, aggregated per patient characteristic, and checked
against the generator's true effects. Pure: model and frames in, arrays and tables out.

SHAP values here are TreeSHAP on the trees' log-odds. With no calibration map (or Platt
scaling, a linear map of the log-odds) they are the model's own scale up to a constant factor;
an isotonic map is monotone, so rankings and directions carry over but sizes are approximate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ketapredict.cohort.effects import EffectModel, linear_predictor
from ketapredict.features import SCHEMA, Task
from ketapredict.model import KetaModel

TOP = 5


@dataclass
class Shap:
    """SHAP values per model feature (n, p), the base value, and the features' names."""

    values: np.ndarray
    base: float
    features: list[str]
    data: pd.DataFrame


def tree_shap(model: KetaModel, X: pd.DataFrame) -> Shap:
    import shap

    explainer = shap.TreeExplainer(model.booster)
    with warnings.catch_warnings():  # shap notes its LightGBM output format once
        warnings.simplefilter("ignore", UserWarning)
        values = np.asarray(explainer.shap_values(X.to_numpy(dtype=np.float64)))
    base = float(np.ravel(explainer.expected_value)[-1])
    return Shap(values, base, list(X.columns), X)


def interaction_pair(model: KetaModel, X: pd.DataFrame) -> tuple[str, str, float]:
    """The pair of model features with the largest mean |SHAP interaction value|."""
    import shap

    inter = np.asarray(
        shap.TreeExplainer(model.booster).shap_interaction_values(X.to_numpy(np.float64))
    )
    strength = np.abs(inter).mean(axis=0)
    np.fill_diagonal(strength, 0)
    i, j = np.unravel_index(np.argmax(strength), strength.shape)
    return X.columns[i], X.columns[j], float(2 * strength[i, j])


TREATMENT = "treatment"  # drug, route and dose act together, through the dose factor
JOINT = {"drug": TREATMENT, "route": TREATMENT, "dose": TREATMENT}
# generator terms on quantities the model sees under another name
ALIASES = {"on_maintenance": "maintenance_per_month", "n_sessions": "sessions"}


def characteristic_of(feature: str, task: Task) -> str:
    """The characteristic a model feature belongs to: its raw input (one-hot columns map back
    to their category), with drug, route and dose joined as the planned treatment."""
    for f in SCHEMA[task]:
        if feature == f.name or (f.kind == "category" and feature.startswith(f"{f.name}_")):
            return JOINT.get(f.name, f.name)
    return feature


def characteristics(task: Task) -> list[str]:
    return list(dict.fromkeys(JOINT.get(f.name, f.name) for f in SCHEMA[task]))


def by_characteristic(shap_values: Shap, task: Task) -> pd.DataFrame:
    """Per-patient SHAP summed over each characteristic's model features (n, characteristics)."""
    owner = [characteristic_of(f, task) for f in shap_values.features]
    frame = pd.DataFrame(shap_values.values, columns=owner)
    return frame.T.groupby(level=0, sort=False).sum().T


def importance(per_patient: pd.DataFrame) -> pd.Series:
    """Mean |SHAP| per characteristic, largest first."""
    return per_patient.abs().mean().sort_values(ascending=False)


def true_contributions(
    task: Task, rows: pd.DataFrame, model: EffectModel, dose_factor: np.ndarray
) -> pd.DataFrame:
    """Each characteristic's true centred contribution per patient, on the generator's scale
    (log-odds of response at 24 h, scaled by each patient's dose factor; log hazard of relapse).
    An interaction is shared equally by its two characteristics. Missing inputs are filled
    with the median (the generator used the complete values, which the data do not keep)."""
    terms = model.response.terms if task == "responder" else model.relapse.terms
    full = rows.fillna(rows.median(numeric_only=True))
    if "maintenance_per_month" in full:
        full = full.assign(on_maintenance=(full["maintenance_per_month"] > 0).astype(float))
    full = full.assign(n_sessions=full["sessions"])
    scale = dose_factor if task == "responder" else np.ones(len(rows))
    out = pd.DataFrame(0.0, index=rows.index, columns=characteristics(task))
    for term in terms:
        owners = [ALIASES.get(c, c) for c in term.covariates]
        if not set(owners) <= set(out.columns):
            continue
        part = scale * term.coef * term.basis(full)
        for owner in owners:
            out[owner] += (part - part.mean()) / len(owners)
    if task == "responder":
        effect = model.response.drug_effect + linear_predictor(terms, full).mean()
        out[TREATMENT] += (dose_factor - dose_factor.mean()) * effect
    return out


def recovery(
    shap_importance: pd.Series,
    truth: pd.DataFrame,
    per_patient: pd.DataFrame,
    rows: pd.DataFrame,
) -> tuple[dict[str, float], pd.DataFrame]:
    """How well an importance ranking recovers the true one: Spearman over all
    characteristics, overlap of the top 5, sign agreement (does a higher value move the
    prediction the true way?) and the share of importance on characteristics with no effect."""
    true_imp = truth.abs().mean()
    table = pd.DataFrame({"importance": shap_importance}).join(
        true_imp.rename("true_importance"), how="outer"
    )
    table = table.fillna(0.0).sort_values("importance", ascending=False)
    table["no_true_effect"] = table["true_importance"] < 1e-9
    top_model = set(table.index[:TOP])
    top_true = set(table.sort_values("true_importance", ascending=False).index[:TOP])
    signs = []
    for name in table.index[~table["no_true_effect"]]:
        if name in per_patient and name in rows and pd.api.types.is_numeric_dtype(rows[name]):
            x = rows[name].to_numpy(float)
            ok = ~np.isnan(x)
            if np.std(x[ok]) > 0 and np.std(per_patient[name].to_numpy()[ok]) > 0:
                model_dir = np.sign(np.corrcoef(x[ok], per_patient[name].to_numpy()[ok])[0, 1])
                true_dir = np.sign(np.corrcoef(x[ok], truth[name].to_numpy()[ok])[0, 1])
                table.loc[name, "sign_agrees"] = bool(model_dir == true_dir)
                signs.append(model_dir == true_dir)
    summary = {
        "spearman": float(stats.spearmanr(table["importance"], table["true_importance"]).statistic),
        "top5_overlap": len(top_model & top_true) / TOP,
        "sign_agreement": float(np.mean(signs)) if signs else float("nan"),
        "noise_share": float(
            table.loc[table["no_true_effect"], "importance"].sum() / table["importance"].sum()
        ),
        "noise_in_top5": float(table["no_true_effect"].iloc[:TOP].sum()),
    }
    return summary, table.rename_axis("characteristic").reset_index()


def examples(p: np.ndarray) -> dict[str, int]:
    """Row indices of a clear responder, a clear non-responder and a borderline patient."""
    return {
        "highest": int(np.argmax(p)),
        "lowest": int(np.argmin(p)),
        "borderline": int(np.argmin(np.abs(p - 0.5))),
    }


def baseline_importance(
    baseline: object, X: pd.DataFrame, task: Task
) -> tuple[pd.Series, pd.DataFrame]:
    """The logistic baseline read the same way: per-patient contributions coef x standardised
    value (its exact additive explanation on the log-odds), summed per characteristic."""
    pipe = baseline  # sklearn Pipeline: impute (with indicators) -> scale -> logistic
    Z = pipe[:-1].transform(X)
    coef = pipe[-1].coef_[0]
    n = len(X.columns)
    contrib = Z[:, :n] * coef[:n]  # missing-value indicator columns are left out
    per = pd.DataFrame(contrib, columns=[characteristic_of(f, task) for f in X.columns])
    per = per.T.groupby(level=0, sort=False).sum().T
    return importance(per), per
