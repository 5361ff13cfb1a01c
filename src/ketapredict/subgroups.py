"""Subgroups: each level's measures with intervals, flagged where the model is worse than
the oracle in the same patients (without an oracle: the measures alone)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketapredict import metrics, paired
from ketapredict.contract import SUBGROUPS
from ketapredict.datasets import has_oracle

# subgroup flags: a model is flagged where it is worse than the oracle in the same patients
# by more than these margins, after Holm's correction over every subgroup and measure
AUROC_MARGIN = 0.02
INTERCEPT_MARGIN = 0.3
ALPHA = 0.05


def subgroups(
    test: pd.DataFrame,
    p: np.ndarray,
    *,
    rng: np.random.Generator,
    resamples: int,
    min_rows: int,
) -> pd.DataFrame:
    """Measures with intervals per subgroup level, and a flag where the model is worse than
    the oracle *in the same patients*. A subgroup's AUROC differs from the overall one by
    case-mix alone, and its observed calibration by chance and by the outcome's own
    variation; the oracle (the true risk) shows how much of that any model would show. So each
    flag is on the paired difference model − oracle (the same bootstrap resamples for both):
    AUROC lower by more than AUROC_MARGIN, or a calibration intercept further than
    INTERCEPT_MARGIN from the oracle's, each tested with the bootstrap standard error of the
    difference, with Holm's correction over every subgroup level and both measures
    (family-wise error ALPHA)."""
    rows, p_values = [], []
    y_all, w_all = test["y"].to_numpy(float), test["weight"].to_numpy(float)
    truth = test["p_true"].to_numpy(float) if has_oracle(test) else None
    for group in SUBGROUPS:
        for level, idx in test.groupby(group, observed=True).indices.items():
            y, w = y_all[idx], w_all[idx]
            if len(idx) < min_rows or y.sum() < 10 or (1 - y).sum() < 10:
                continue
            counts = paired.resample_counts(y, w, rng, resamples)
            if truth is None:  # no oracle: the measures alone, no flag against it
                rows.append(_subgroup_alone(group, level, y, p[idx], w, counts))
                continue
            pm, po = p[idx], truth[idx]
            auc = {k: metrics.auroc(y, q, counts[True]) for k, q in (("m", pm), ("o", po))}
            icpt = {
                k: metrics.calibration_intercept(y, q, counts[False])
                for k, q in (("m", pm), ("o", po))
            }
            d_auc, d_icpt = auc["m"] - auc["o"], icpt["m"] - icpt["o"]
            est = {
                "auroc": float(metrics.auroc(y, pm, w)),
                "oracle_auroc": float(metrics.auroc(y, po, w)),
                "intercept": float(metrics.calibration_intercept(y, pm, w)),
                "oracle_intercept": float(metrics.calibration_intercept(y, po, w)),
            }
            p_auc = paired.p_below(est["auroc"] - est["oracle_auroc"], d_auc, -AUROC_MARGIN)
            p_cal = paired.p_outside(
                est["intercept"] - est["oracle_intercept"], d_icpt, INTERCEPT_MARGIN
            )
            p_values += [p_auc, p_cal]
            ci = {
                "": paired.interval(est["auroc"], auc["m"]),
                "auroc": paired.interval(est["auroc"] - est["oracle_auroc"], d_auc),
                "intercept": paired.interval(est["intercept"] - est["oracle_intercept"], d_icpt),
            }
            rows.append(
                {
                    "group": group,
                    "level": str(level),
                    "n": len(idx),
                    "events": int(y.sum()),
                    "estimate": est["auroc"],
                    "low": ci[""]["low"],
                    "high": ci[""]["high"],
                    "oracle_auroc": est["oracle_auroc"],
                    "auroc_minus_oracle": est["auroc"] - est["oracle_auroc"],
                    "auroc_minus_oracle_low": ci["auroc"]["low"],
                    "auroc_minus_oracle_high": ci["auroc"]["high"],
                    "brier": float(metrics.brier(y, pm, w)),
                    "calibration_intercept": est["intercept"],
                    "oracle_calibration_intercept": est["oracle_intercept"],
                    "intercept_minus_oracle": est["intercept"] - est["oracle_intercept"],
                    "intercept_minus_oracle_low": ci["intercept"]["low"],
                    "intercept_minus_oracle_high": ci["intercept"]["high"],
                    "calibration_slope": float(metrics.calibration_slope(y, pm, w)),
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty or truth is None:
        return frame
    adjusted = paired.holm(np.array(p_values)).reshape(-1, 2)
    frame["p_auroc_holm"], frame["p_calibration_holm"] = adjusted[:, 0], adjusted[:, 1]
    worse_auc, worse_cal = adjusted[:, 0] < ALPHA, adjusted[:, 1] < ALPHA
    frame["flag"] = worse_auc | worse_cal
    frame["flag_reason"] = [
        "; ".join(
            r
            for r, on in (
                ("ranks worse than the oracle", a),
                ("calibrated worse than the oracle", c),
            )
            if on
        )
        for a, c in zip(worse_auc, worse_cal, strict=True)
    ]
    return frame


def _subgroup_alone(group: str, level: object, y, p, w, counts) -> dict[str, object]:
    """A subgroup level's measures with their intervals, when there is no oracle to flag
    against (a user's cohort): read them as description, not as a test."""
    auroc = float(metrics.auroc(y, p, w))
    ci = paired.interval(auroc, metrics.auroc(y, p, counts[True]))
    return {
        "group": group,
        "level": str(level),
        "n": len(y),
        "events": int(y.sum()),
        "estimate": auroc,
        "low": ci["low"],
        "high": ci["high"],
        "brier": float(metrics.brier(y, p, w)),
        "calibration_intercept": float(metrics.calibration_intercept(y, p, w)),
        "calibration_slope": float(metrics.calibration_slope(y, p, w)),
        "flag": False,
        "flag_reason": "",
    }
