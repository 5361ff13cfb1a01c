"""Evaluation as clinical prediction models are judged: discrimination, accuracy, calibration,
clinical usefulness, subgroups and overfitting, each model next to the oracle (the generator's
true risk). Pure: predictions in, numbers and curve frames out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from ketapredict import metrics

ORACLE = "Oracle (true risk)"
MODEL = "LightGBM"
SUBGROUPS = ("sex", "age_band", "trial", "route")
# fit_predict(X, y, weights, X_eval): fit the whole procedure, return probabilities for X_eval
FitPredict = Callable[[pd.DataFrame, np.ndarray, np.ndarray, pd.DataFrame], np.ndarray]


@dataclass
class Evaluation:
    """Summary numbers (JSON-ready), curve frames (for plots) and tables (CSV)."""

    summary: dict[str, dict[str, float]] = field(default_factory=dict)
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def thin(frame: pd.DataFrame, points: int = 300) -> pd.DataFrame:
    """Keep at most `points` rows of a curve, always its first and last."""
    if len(frame) <= points:
        return frame.reset_index(drop=True)
    keep = np.unique(np.linspace(0, len(frame) - 1, points).round().astype(int))
    return frame.iloc[keep].reset_index(drop=True)


def measures(
    y: np.ndarray, p: np.ndarray, w: np.ndarray, *, rng: np.random.Generator, resamples: int
) -> dict[str, float]:
    """Every measure with its 95 % bootstrap interval (`<name>`, `<name>_low`, `<name>_high`),
    plus the smoothed-calibration errors ICI (Eavg), E50, E90 and Emax."""
    out: dict[str, float] = {}
    for name, (est, low, high) in metrics.bootstrap_metrics(
        y, p, rng=rng, n_resamples=resamples, weights=w
    ).items():
        out.update({name: est, f"{name}_low": low, f"{name}_high": high})
    smooth = metrics.smoothed_calibration(y, p)
    out.update(ici=smooth.ici, e50=smooth.e50, e90=smooth.e90, emax=smooth.emax)
    out.update(
        n=float(len(y)), events=float(np.sum(y * w)), prevalence=float(np.average(y, weights=w))
    )
    return out


def _curves(name: str, y: np.ndarray, p: np.ndarray, w: np.ndarray) -> dict[str, pd.DataFrame]:
    fpr, tpr, _ = roc_curve(y, p, sample_weight=w)
    precision, recall, _ = precision_recall_curve(y, p, sample_weight=w)
    smooth = metrics.smoothed_calibration(y, p)
    return {
        f"roc:{name}": thin(pd.DataFrame({"fpr": fpr, "tpr": tpr})),
        f"pr:{name}": thin(pd.DataFrame({"recall": recall[::-1], "precision": precision[::-1]})),
        f"calibration:{name}": pd.DataFrame(
            {
                "predicted": smooth.grid,
                "observed": smooth.observed,
                "lower": smooth.lower,
                "upper": smooth.upper,
            }
        ),
    }


def decision_curves(
    y: np.ndarray, scores: dict[str, np.ndarray], thresholds: np.ndarray
) -> pd.DataFrame:
    """Net benefit of "treat if p >= t" per strategy, plus treat-all and treat-none."""
    rows = [
        pd.DataFrame(
            {
                "threshold": thresholds,
                "strategy": name,
                "net_benefit": metrics.net_benefit(y, p, thresholds),
            }
        )
        for name, p in scores.items()
    ]
    rows.append(
        pd.DataFrame(
            {
                "threshold": thresholds,
                "strategy": "Treat all",
                "net_benefit": metrics.net_benefit_treat_all(y, thresholds),
            }
        )
    )
    rows.append(
        pd.DataFrame({"threshold": thresholds, "strategy": "Treat none", "net_benefit": 0.0})
    )
    return pd.concat(rows, ignore_index=True)


def counterfactual_curves(
    p: np.ndarray, p_treated: np.ndarray, p_control: np.ndarray, thresholds: np.ndarray
) -> pd.DataFrame:
    """ "Give ketamine if predicted response >= t", scored with the true responses under
    ketamine and under the comparator (see metrics.counterfactual_net_benefit)."""
    cf = metrics.counterfactual_net_benefit(p, p_treated, p_control, thresholds)
    names = {"model": MODEL, "oracle": ORACLE, "treat_all": "Treat all", "treat_none": "Treat none"}
    frames = []
    for key, label in names.items():
        gain = cf.get(f"gain_{key}", np.zeros(len(thresholds)))
        frames.append(
            pd.DataFrame(
                {
                    "threshold": thresholds,
                    "strategy": label,
                    "net_benefit": cf[key],
                    "responses_gained": gain,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def evaluate_test(
    test: pd.DataFrame,
    predictions: dict[str, np.ndarray],
    *,
    rng: np.random.Generator,
    resamples: int,
    thresholds: np.ndarray,
) -> Evaluation:
    """Every model and the oracle on the held-out test rows, and each model's gap to it."""
    y, w = test["y"].to_numpy(float), test["weight"].to_numpy(float)
    scores = {**predictions, ORACLE: test["p_true"].to_numpy(float)}
    ev = Evaluation()
    for name, p in scores.items():
        ev.summary[name] = measures(y, p, w, rng=rng, resamples=resamples)
        ev.curves.update(_curves(name, y, p, w))
    ev.curves["calibration_binned"] = metrics.binned_calibration(y, scores[MODEL])
    dc = decision_curves(y, scores, thresholds)
    ev.curves["decision"] = dc
    oracle_nb = dc[dc["strategy"] == ORACLE]["net_benefit"].to_numpy()
    for name, p in predictions.items():
        nb = dc[dc["strategy"] == name]["net_benefit"].to_numpy()
        vs_truth = metrics.calibration_error_vs_truth(p, scores[ORACLE])
        ev.summary[name].update(
            auroc_vs_oracle=ev.summary[name]["auroc"] / ev.summary[ORACLE]["auroc"],
            net_benefit_regret_mean=float(np.mean(oracle_nb - nb)),
            net_benefit_regret_max=float(np.max(oracle_nb - nb)),
            **{f"truth_{k}": v for k, v in vs_truth.items()},
        )
    if "p_true_control" in test and test["p_true_control"].notna().all():
        ev.curves["counterfactual"] = counterfactual_curves(
            scores[MODEL], scores[ORACLE], test["p_true_control"].to_numpy(float), thresholds
        )
    return ev


def subgroups(
    test: pd.DataFrame,
    p: np.ndarray,
    *,
    rng: np.random.Generator,
    resamples: int,
    min_rows: int,
) -> pd.DataFrame:
    """Measures with intervals per subgroup level; `flag` marks a markedly worse group. A
    subgroup's AUROC differs from the overall one by case-mix alone (a narrower group is harder
    to rank), so the yardstick is the oracle's AUROC in the same group: flagged when the model's
    whole interval lies more than 0.02 below it, or when the calibration intercept is beyond
    +-0.3 with an interval excluding 0 (systematic over- or under-prediction)."""
    rows = []
    for group in SUBGROUPS:
        for level, idx in test.groupby(group, observed=True).indices.items():
            y, w = test["y"].to_numpy(float)[idx], test["weight"].to_numpy(float)[idx]
            if len(idx) < min_rows or y.sum() < 10 or (1 - y).sum() < 10:
                continue
            m = metrics.bootstrap_metrics(y, p[idx], rng=rng, n_resamples=resamples, weights=w)
            oracle = metrics.auroc(y, test["p_true"].to_numpy(float)[idx], w)
            a, ci = m["auroc"], m["calibration_intercept"]
            flag = a[2] < oracle - 0.02 or (abs(ci[0]) > 0.3 and (ci[1] > 0 or ci[2] < 0))
            rows.append(
                {
                    "group": group,
                    "level": str(level),
                    "n": len(idx),
                    "events": int(y.sum()),
                    "estimate": a[0],
                    "low": a[1],
                    "high": a[2],
                    "oracle_auroc": float(oracle),
                    "brier": m["brier"][0],
                    "calibration_intercept": ci[0],
                    "calibration_intercept_low": ci[1],
                    "calibration_intercept_high": ci[2],
                    "calibration_slope": m["calibration_slope"][0],
                    "flag": bool(flag),
                }
            )
    return pd.DataFrame(rows)


def internal_external(
    table: pd.DataFrame, X: pd.DataFrame, fit_predict: FitPredict, *, min_rows: int
) -> pd.DataFrame:
    """Leave one design out: fit on the other designs, test on it (all its rows); the rows'
    weights (IPCW for relapse) in the fit and in the measures."""
    rows = []
    y_all, w_all = table["y"].to_numpy(float), table["weight"].to_numpy(float)
    for trial, idx in table.groupby("trial").indices.items():
        rest = np.setdiff1d(np.arange(len(table)), idx)
        y = y_all[idx]
        if len(idx) < min_rows or y.sum() < 10 or (1 - y).sum() < 10:
            continue
        p = fit_predict(X.iloc[rest], y_all[rest], w_all[rest], X.iloc[idx])
        w = w_all[idx]
        intercept, slope = metrics.calibration_intercept_slope(y, p, w)
        rows.append(
            {
                "trial": trial,
                "n": len(idx),
                "events": int(y.sum()),
                "auroc": float(metrics.auroc(y, p, w)),
                "oracle_auroc": float(metrics.auroc(y, table["p_true"].to_numpy(float)[idx], w)),
                "calibration_intercept": float(intercept),
                "calibration_slope": float(slope),
                "observed_over_expected": float(
                    np.average(y, weights=w) / np.average(p, weights=w)
                ),
            }
        )
    return pd.DataFrame(rows)
