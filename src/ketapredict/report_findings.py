"""What the model card's tables show, in sentences: the card comments on its own numbers, so a
large problem (a no-effect characteristic among the top explanations, risks that do not
transport to a left-out design) is said, not left for the reader to spot. Pure: a TaskCard in,
sentences out."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ketapredict.contract import MODEL

# observed/expected events on a left-out design outside this range: the absolute risks do not
# transport (assumption: a common reading of O/E, e.g. Debray et al., J Clin Epidemiol 2015,
# who call calibration-in-the-large poor well before O/E leaves 0.8-1.25)
OE_RANGE = (0.8, 1.25)
# a characteristic in the SHAP top 5 of fewer than this share of bootstrap resamples: its
# place in the ranking is not stable (assumption)
STABLE_SHARE = 0.8
# a calibration slope interval wider than this says little either way (assumption)
WIDE_SLOPE = 0.5


def findings(task: Any) -> list[str]:
    """Sentences on what `task`'s (a report.TaskCard) tables show, most important first."""
    m = task.metrics
    said = [
        *_comparisons(m),
        *_calibration(m["test"]),
        *_subgroups(task.subgroups),
        *_transport(task.internal_external),
    ]
    if "oracle" in task.recovery:  # no truth: the stability of the ranking instead
        said += _stability(task.importance)
    else:
        aliased = list(task.recovery.get("aliased_blocks") or {})
        said += _explanations(task.importance, task.raw_importance, aliased)
    return said


def _interval(d: dict[str, Any], key: str) -> tuple[float, float, float] | None:
    values = (d.get(key), d.get(f"{key}_low"), d.get(f"{key}_high"))
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
        return None
    return values  # type: ignore[return-value]


def _comparisons(m: dict[str, Any]) -> list[str]:
    out = []
    paired = m.get("paired", {})
    vs_baseline = _interval(paired.get("model_minus_baseline", {}), "auroc")
    if vs_baseline:
        d, lo, hi = vs_baseline
        if lo > 0:
            out.append(
                f"{MODEL} ranks patients better than the logistic baseline (Δ AUROC {d:+.3f}, "
                f"{lo:+.3f} to {hi:+.3f})."
            )
        elif hi < 0:
            out.append(
                f"{MODEL} ranks patients worse than the logistic baseline (Δ AUROC {d:+.3f}, "
                f"{lo:+.3f} to {hi:+.3f}): the simpler model is the better one here."
            )
        else:
            out.append(
                f"{MODEL} and the logistic baseline cannot be told apart (Δ AUROC {d:+.3f}, "
                f"interval {lo:+.3f} to {hi:+.3f} spans 0): the flexible model buys nothing "
                "measurable."
            )
    vs_oracle = _interval(paired.get("model_minus_oracle", {}), "auroc")
    if vs_oracle:
        d, lo, hi = vs_oracle
        verdict = (
            "close to the best any model could do with these characteristics"
            if d > -0.02
            else "short of the best possible, so there is signal the model misses"
        )
        out.append(
            f"AUROC is {-d:.3f} below the oracle's (the true risk; {lo:+.3f} to {hi:+.3f}): "
            f"{verdict}."
        )
    return out


def _calibration(test: dict[str, Any]) -> list[str]:
    out = []
    slope = _interval(test, "calibration_slope")
    if slope and not slope[1] <= 1 <= slope[2]:
        s, lo, hi = slope
        how = "too extreme (overfitting)" if s < 1 else "too modest (underfitting)"
        out.append(
            f"Calibration slope {s:.2f} ({lo:.2f} to {hi:.2f}) excludes 1: predicted risks are "
            f"{how}."
        )
    intercept = _interval(test, "calibration_intercept")
    if intercept and not intercept[1] <= 0 <= intercept[2]:
        a, lo, hi = intercept
        how = "over-predicts" if a < 0 else "under-predicts"
        out.append(
            f"Calibration intercept {a:+.2f} ({lo:+.2f} to {hi:+.2f}) excludes 0: the model "
            f"{how} the outcome on average."
        )
    if not out and slope and intercept:
        width = slope[2] - slope[1]
        out.append(
            "Calibration on the test data is compatible with perfect (slope 1, intercept 0)"
            + (
                f", but the slope's interval is wide ({slope[1]:.2f} to {slope[2]:.2f}): the "
                "test data are too few to judge calibration."
                if width > WIDE_SLOPE
                else "."
            )
        )
    return out


def _subgroups(frame: pd.DataFrame) -> list[str]:
    if frame.empty or "flag" not in frame:
        return []
    flagged = frame[frame["flag"].fillna(False).astype(bool)]
    if flagged.empty:
        return ["No subgroup is flagged: none ranks or calibrates worse than the oracle does in "
                "the same patients."]  # fmt: skip
    items = "; ".join(
        f"{r['group']} = {r['level']} ({r.get('why flagged') or r.get('flag_reason') or 'flagged'})"
        for r in flagged.to_dict("records")
    )
    return [f"{len(flagged)} subgroup(s) flagged against the oracle in the same patients: {items}."]


def _transport(frame: pd.DataFrame) -> list[str]:
    """Internal-external validation: the left-out designs whose risks do not transport."""
    if frame.empty or "observed_over_expected" not in frame:
        return []
    low, high = OE_RANGE
    oe = frame["observed_over_expected"].astype(float)
    off = frame[(oe < low) | (oe > high)]
    if off.empty:
        return [
            f"Observed/expected events stay within {low}–{high} on every left-out design: the "
            "risks transport between these designs."
        ]
    items = "; ".join(
        f"{r['trial']} {r['observed_over_expected']:.2f} ("
        + ("over-predicted" if r["observed_over_expected"] < 1 else "under-predicted")
        + ")"
        for r in off.to_dict("records")
    )
    worst = off.loc[(np.log(off["observed_over_expected"].astype(float))).abs().idxmax()]
    ratio = float(worst["observed_over_expected"])
    return [
        f"Left out of training, {len(off)} of {len(frame)} designs "
        f"{'is' if len(off) == 1 else 'are'} poorly calibrated in the large (observed/expected "
        f"outside {low}–{high}): {items}. At worst ({worst['trial']}) the model is off by a "
        f"factor {max(ratio, 1 / ratio):.1f}: its "
        "absolute risks do not transport to a design unlike those it learned from; recalibrate "
        "before using them on a new design."
    ]


def _explanations(blocks: pd.DataFrame, raw: pd.DataFrame, aliased: list[str]) -> list[str]:
    """The SHAP ranking against the truth: blocks of aliased characteristics (the table), and
    the raw ranking the SHAP figures show."""
    if blocks.empty or "no_true_effect" not in blocks:
        return []
    out = []
    for frame, where in ((blocks, "the SHAP top 5"), (raw, "the SHAP figures' top 5")):
        if frame.empty:
            continue
        top = frame.head(5)
        for name in top[top["no_true_effect"].astype(bool)]["characteristic"]:
            rank = int(frame.index[frame["characteristic"] == name][0]) + 1
            block = next((b for b in aliased if name in b.split(" + ")), None)
            why = (
                f"it moves in lockstep with {block.replace(name, '').strip(' +')} (constant "
                "within each design), so its SHAP value carries their effect: read the block, "
                "not the characteristic"
                if block
                else "the model leans on a correlate of the outcome's causes; do not read the "
                "ranking as causes"
            )
            out.append(
                f"{name} is number {rank} in {where} though the generator gave it no effect: {why}."
            )
    if not out:
        out.append("Every characteristic in the SHAP top 5 has a true effect.")
    top = blocks.head(5)
    if "sign_agrees" in top:
        known = top.dropna(subset=["sign_agrees"])
        wrong = known[~known["sign_agrees"].astype(bool)]["characteristic"].tolist()
        if wrong:
            out.append(f"SHAP points against the true effect for {', '.join(wrong)}.")
    return out


def _stability(importance: pd.DataFrame) -> list[str]:
    if importance.empty or "top5_share" not in importance:
        return []
    top = importance.head(5)
    shaky = top[top["top5_share"] < STABLE_SHARE]
    if shaky.empty:
        return ["The SHAP top 5 is stable: each is in it in most bootstrap resamples."]
    names = ", ".join(f"{r.characteristic} ({r.top5_share:.0%})" for r in shaky.itertuples())
    return [f"The SHAP ranking is unstable for {names}: do not read much into their order."]
