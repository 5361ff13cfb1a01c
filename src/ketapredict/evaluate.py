"""Evaluation as clinical prediction models are judged: discrimination, accuracy, calibration,
clinical usefulness, subgroups and overfitting, each model next to the oracle (the generator's
true risk). Pure: predictions in, numbers and curve frames out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from ketapredict import metrics, paired
from ketapredict.contract import BASELINE, ID, MODEL, ORACLE
from ketapredict.datasets import has_oracle

# paired differences reported: name -> (a, b), a − b
PAIRS = {"model_minus_baseline": (MODEL, BASELINE), "model_minus_oracle": (MODEL, ORACLE)}
# fit_predict(X, y, weights, groups, X_eval): repeat the whole training procedure (grouped
# cross-validation by `groups`), return probabilities for X_eval
FitPredict = Callable[[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, pd.DataFrame], np.ndarray]


@dataclass
class Evaluation:
    """Summary numbers (JSON-ready), curve frames (for plots) and tables (CSV)."""

    summary: dict[str, dict[str, float]] = field(default_factory=dict)
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    paired: dict[str, dict[str, float]] = field(default_factory=dict)
    designs: dict[str, float] = field(default_factory=dict)


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
    y: np.ndarray,
    scores: dict[str, np.ndarray],
    thresholds: np.ndarray,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """Net benefit of "treat if p >= t" per strategy, plus treat-all and treat-none; rows
    weighted (IPCW for relapse) as in every other measure."""
    rows = [
        pd.DataFrame(
            {
                "threshold": thresholds,
                "strategy": name,
                "net_benefit": metrics.net_benefit(y, p, thresholds, weights),
            }
        )
        for name, p in scores.items()
    ]
    rows.append(
        pd.DataFrame(
            {
                "threshold": thresholds,
                "strategy": "Treat all",
                "net_benefit": metrics.net_benefit_treat_all(y, thresholds, weights),
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
    oracle = has_oracle(test)
    scores = {**predictions, **({ORACLE: test["p_true"].to_numpy(float)} if oracle else {})}
    ev = Evaluation()
    for name, p in scores.items():
        ev.summary[name] = measures(y, p, w, rng=rng, resamples=resamples)
        ev.curves.update(_curves(name, y, p, w))
    ev.curves["calibration_binned"] = metrics.binned_calibration(y, scores[MODEL])
    dc = decision_curves(y, scores, thresholds, w)
    ev.curves["decision"] = dc
    if oracle:
        _against_oracle(ev, test, predictions, scores, dc, thresholds)
    counts = paired.resample_counts(y, w, rng, resamples)
    nb_rows = []
    for key, (a, b) in PAIRS.items():
        if a in scores and b in scores:
            summary, curve = paired.differences(y, scores[a], scores[b], w, counts, thresholds)
            ev.paired[key] = paired.flat(summary)
            nb_rows.append(curve.assign(comparison=key))
    if nb_rows:
        ev.tables["paired_net_benefit"] = pd.concat(nb_rows, ignore_index=True)
    return ev


def _against_oracle(
    ev: Evaluation,
    test: pd.DataFrame,
    predictions: dict[str, np.ndarray],
    scores: dict[str, np.ndarray],
    dc: pd.DataFrame,
    thresholds: np.ndarray,
) -> None:
    """Each model's gap to the oracle: AUROC ratio, net-benefit regret, error against the true
    risk; and the counterfactual curves where the truth has the comparator's risk."""
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


def by_design(
    train: pd.DataFrame,
    test: pd.DataFrame,
    scores: dict[str, np.ndarray],
    *,
    rng: np.random.Generator,
    resamples: int,
    min_rows: int,
) -> tuple[dict[str, float], pd.DataFrame]:
    """How much of the pooled AUROC is "which design is this": the AUROC of a model that knows
    only each design's outcome rate (from the training rows), and the AUROC within designs
    (pairs of patients from one design) for every model and the oracle; then each design's own
    AUROCs. Pooled designs differ in outcome rate, so pooled AUROC overstates what a model
    ranks within one clinic's patients."""
    y, w = test["y"].to_numpy(float), test["weight"].to_numpy(float)
    design = test["trial"].astype(str).to_numpy()
    rates = train.groupby("trial", observed=True).apply(
        lambda g: np.average(g["y"], weights=g["weight"]) if g["weight"].sum() > 0 else np.nan,
        include_groups=False,
    )
    overall = float(np.average(train["y"], weights=train["weight"]))
    design_only = test["trial"].map(rates).astype(float).fillna(overall).to_numpy()
    counts = paired.resample_counts(y, w, rng, resamples)[True]
    everyone = {**scores, **({ORACLE: test["p_true"].to_numpy(float)} if has_oracle(test) else {})}
    summary = {
        "design_only_auroc": paired.interval(
            metrics.auroc(y, design_only, w), metrics.auroc(y, design_only, counts)
        ),
        **{
            f"within_design_auroc_{_key(name)}": paired.interval(
                paired.within_design_auroc(y, p, w, design),
                paired.within_design_auroc(y, p, w, design, counts),
            )
            for name, p in everyone.items()
        },
    }
    rows = []
    for d, idx in test.groupby("trial", observed=True).indices.items():
        yd, wd = y[idx], w[idx]
        if len(idx) < min_rows or yd.sum() < 10 or (1 - yd).sum() < 10:
            continue
        row = {"trial": str(d), "n": len(idx), "events": int(yd.sum())}
        for name, p in everyone.items():
            row[f"auroc_{_key(name)}"] = float(metrics.auroc(yd, p[idx], wd))
        rows.append(row)
    return paired.flat(summary), pd.DataFrame(rows)


def _key(name: str) -> str:
    """A model's display name as a metrics key: LightGBM -> model, Logistic -> baseline."""
    return {MODEL: "model", BASELINE: "baseline", ORACLE: "oracle"}.get(name, name.lower())


def internal_external(
    table: pd.DataFrame,
    X: pd.DataFrame,
    fit_predict: FitPredict,
    *,
    min_rows: int,
    workers: int = 1,
) -> pd.DataFrame:
    """Leave one design out: repeat the procedure on the other designs, test on it (all its
    rows); the rows' weights (IPCW for relapse) in the fit and in the measures."""
    from ketapredict.parallel import map_ordered

    y_all, w_all = table["y"].to_numpy(float), table["weight"].to_numpy(float)
    groups = table[ID].to_numpy()
    held_out = []
    for trial, idx in table.groupby("trial").indices.items():
        y = y_all[idx]
        if len(idx) >= min_rows and y.sum() >= 10 and (1 - y).sum() >= 10:
            held_out.append((trial, idx, np.setdiff1d(np.arange(len(table)), idx)))
    jobs = [
        (X.iloc[rest], y_all[rest], w_all[rest], groups[rest], X.iloc[idx])
        for _, idx, rest in held_out
    ]
    rows = []
    for (trial, idx, _), p in zip(
        held_out,
        map_ordered(fit_predict, jobs, workers=workers, progress="leave one design out"),
        strict=True,
    ):
        y, w = y_all[idx], w_all[idx]
        intercept, slope = metrics.calibration_intercept_slope(y, p, w)
        rows.append(
            {
                "trial": trial,
                "n": len(idx),
                "events": int(y.sum()),
                "auroc": float(metrics.auroc(y, p, w)),
                "oracle_auroc": (
                    float(metrics.auroc(y, table["p_true"].to_numpy(float)[idx], w))
                    if has_oracle(table)
                    else np.nan
                ),
                "calibration_intercept": float(intercept),
                "calibration_slope": float(slope),
                "observed_over_expected": float(
                    np.average(y, weights=w) / np.average(p, weights=w)
                ),
            }
        )
    return pd.DataFrame(rows)
