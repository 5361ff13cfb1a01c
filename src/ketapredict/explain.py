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

from ketapredict.cohort.effects import EffectModel, TermBasis
from ketapredict.contract import Task
from ketapredict.features import SCHEMA
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


def _members(task: Task) -> dict[str, list[str]]:
    """Each characteristic's raw input columns (the planned treatment has three)."""
    out: dict[str, list[str]] = {}
    for f in SCHEMA[task]:
        out.setdefault(JOINT.get(f.name, f.name), []).append(f.name)
    return out


def aliased_blocks(
    rows: pd.DataFrame, task: Task, *, design: str = "trial", min_r: float = 0.98
) -> list[list[str]]:
    """Groups of characteristics whose effects the training rows cannot tell apart; each
    group of two or more is scored as one block. Two characteristics are aliased when
    - both are constant within every design and one is a function of the other across the
      designs (e.g. in the relapse data only SUSTAIN-1 has esketamine, 20 sessions and a
      5.6-day interval: its effect could be any of them, or the design itself), or
    - one determines the other row by row (the same partition of the rows), or
    - they are numeric and correlated with |r| >= min_r.
    Blocks are the connected groups of that relation."""
    members = {c: [m for m in cols if m in rows] for c, cols in _members(task).items()}
    members = {c: cols for c, cols in members.items() if cols}
    codes = {
        c: pd.Series(pd.MultiIndex.from_frame(rows[cols].astype(object)).factorize()[0])
        for c, cols in members.items()
    }
    missing = {c: rows[cols].isna().any(axis=1).to_numpy() for c, cols in members.items()}
    groups = rows[design].astype(str).to_numpy()
    level: dict[str, pd.Series] = {}
    for c, code in codes.items():
        known = pd.Series(code.to_numpy()[~missing[c]], index=groups[~missing[c]])
        per_design = known.groupby(level=0).nunique()
        if len(per_design) and (per_design <= 1).all():
            level[c] = known.groupby(level=0).first()
    parent = {c: c for c in members}

    def root(c: str) -> str:
        while parent[c] != c:
            c = parent[c]
        return c

    names = list(members)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if _aliased(a, b, level, codes, rows, members, min_r):
                parent[root(b)] = root(a)
    blocks: dict[str, list[str]] = {}
    for c in names:
        blocks.setdefault(root(c), []).append(c)
    return [b for b in blocks.values() if len(b) > 1]


def _aliased(
    a: str,
    b: str,
    level: dict[str, pd.Series],
    codes: dict[str, pd.Series],
    rows: pd.DataFrame,
    members: dict[str, list[str]],
    min_r: float,
) -> bool:
    if a in level and b in level:
        both = pd.concat([level[a], level[b]], axis=1, join="inner")
        if len(both) and (
            both.groupby(both.columns[0]).nunique().max().iloc[0] <= 1
            or both.groupby(both.columns[1]).nunique().max().iloc[0] <= 1
        ):
            return True
    pairs = pd.concat([codes[a], codes[b]], axis=1).drop_duplicates()
    if len(pairs) == codes[a].nunique() == codes[b].nunique() < len(rows):
        return True
    if len(members[a]) == len(members[b]) == 1:
        x, y = rows[members[a][0]], rows[members[b][0]]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            r = x.astype(float).corr(y.astype(float))
            return bool(np.isfinite(r) and abs(r) >= min_r)
    return False


def merge_blocks(per_patient: pd.DataFrame, blocks: list[list[str]]) -> pd.DataFrame:
    """Per-patient contributions with each block's members summed into one column named
    "a + b + ..." (SHAP values and true contributions are additive)."""
    rename = {m: " + ".join(b) for b in blocks for m in b}
    return per_patient.T.groupby(lambda c: rename.get(c, c), sort=False).sum().T


def importance(per_patient: pd.DataFrame) -> pd.Series:
    """Mean |SHAP| per characteristic, largest first."""
    return per_patient.abs().mean().sort_values(ascending=False)


def true_contributions(
    task: Task, rows: pd.DataFrame, model: EffectModel, dose_factor: np.ndarray
) -> pd.DataFrame:
    """Each characteristic's true centred contribution per patient, on the generator's scale
    (log-odds of response at 24 h: prognostic terms as they are, predictive terms scaled by
    each patient's dose factor; log hazard of relapse). An interaction is shared equally by its
    two characteristics. Missing inputs are filled with the median (the generator used the
    complete, true values, which the data do not keep)."""
    full = rows.fillna(rows.median(numeric_only=True))
    if "maintenance_per_month" in full:
        full = full.assign(on_maintenance=(full["maintenance_per_month"] > 0).astype(float))
    full = full.assign(n_sessions=full["sessions"])
    at_24h = np.array([24.0])
    if task == "responder":
        per_kg = full["route"].astype(str).map(model.per_kg).to_numpy(dtype=bool)
        scaled = [(t, t.profile(at_24h)) for t in model.response.prognostic]
        scaled += [
            (t, dose_factor * t.profile(at_24h) * (per_kg | (t.dosing == "any")))
            for t in model.response.predictive
        ]
    else:
        scaled = [(t, np.ones(1)) for t in model.relapse.terms]
    out = pd.DataFrame(0.0, index=rows.index, columns=characteristics(task))
    for term, scale in scaled:
        owners = [ALIASES.get(c, c) for c in term.covariates]
        if not set(owners) <= set(out.columns):
            continue
        part = scale * term.coef * term.basis(full)
        for owner in owners:
            out[owner] += (part - part.mean()) / len(owners)
    if task == "responder":
        predictive = TermBasis(model.response.predictive, full).at(at_24h)
        effect = model.response.drug_effect + float(predictive.mean())
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


def block_recovery(
    per_patient: pd.DataFrame, truth: pd.DataFrame, rows: pd.DataFrame, blocks: list[list[str]]
) -> tuple[dict[str, float], pd.DataFrame]:
    """recovery() with each block of aliased characteristics scored as one characteristic."""
    merged = merge_blocks(per_patient, blocks)
    return recovery(importance(merged), merge_blocks(truth, blocks), merged, rows)


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


STABILITY_RESAMPLES = 200


def top5_stability(
    per_patient: pd.DataFrame, rng: np.random.Generator, resamples: int = STABILITY_RESAMPLES
) -> pd.DataFrame:
    """How often each characteristic is among the five of largest mean |SHAP| when the
    patients are resampled (bootstrap): the ranking's stability, what can be said of an
    explanation when no truth exists to check it against (a user's cohort)."""
    values = per_patient.abs().to_numpy(float)
    n, k = values.shape
    draws = rng.integers(0, n, size=(resamples, n))
    counts = np.zeros((resamples, n))
    np.add.at(counts, (np.repeat(np.arange(resamples), n), draws.ravel()), 1.0)
    means = counts @ values / n
    top = np.argsort(-means, axis=1, kind="stable")[:, : min(5, k)]
    share = np.bincount(top.ravel(), minlength=k) / resamples
    table = pd.DataFrame(
        {
            "characteristic": per_patient.columns,
            "importance": values.mean(axis=0),
            "top5_share": share,
        }
    )
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
