"""The study's results: per cell of the grid (design, scenario, learner, n) the mean and
quantiles of every measure with Monte Carlo standard errors, the share of replicates meeting
each criterion, the patients each criterion needs, and Riley's criteria beside them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ketapredict.plan.riley import riley_binary

GRID = ["design", "scenario", "learner", "n"]
MEASURES = ("auroc_ratio", "calibration_slope", "calibration_intercept", "mean_abs_error",
            "e90", "top5_overlap", "pehe", "benefit_spearman", "c_for_benefit")  # fmt: skip
# criterion -> (what it says, the replicate meets it)
CRITERIA = {
    "slope_in_band": "calibration slope in [0.9, 1.1]",
    "auroc_near_oracle": "AUROC at least 0.95 x the oracle's",
    "shap_top5": "SHAP top-5 overlap with the true top 5 at least 0.8",
    "benefit_detectable": "the benefit learner passes the pipeline's gate on the development "
    "data (cross-fitted estimates predict the observed contrast)",
}
NEEDED_SHARE = 0.8  # a criterion holds at n when it holds in this share of replicates


def met(rows: pd.DataFrame) -> pd.DataFrame:
    """Per replicate, whether it meets each criterion: 1 or 0, NaN where the criterion is
    not the cell's (a benefit learner has no calibration slope, a response model no gate)."""

    def column(name: str) -> pd.Series:
        return rows[name] if name in rows else pd.Series(np.nan, index=rows.index)

    def flag(values: pd.Series, holds: pd.Series) -> pd.Series:
        return holds.astype(float).where(values.notna())

    slope, auroc, top5 = column("slope_in_band"), column("auroc_ratio"), column("top5_overlap")
    gate = column("benefit_detectable")
    return pd.DataFrame(
        {
            "slope_in_band": flag(slope, slope == True),  # noqa: E712 (NaN-aware)
            "auroc_near_oracle": flag(auroc, auroc >= 0.95),
            "shap_top5": flag(top5, top5 >= 0.8),
            "benefit_detectable": flag(gate, gate == True),  # noqa: E712
        },
        index=rows.index,
    )


def cell_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per grid cell: replicates; per measure mean, its MC SE and the 10th, 50th and
    90th percentiles; per criterion the share of replicates meeting it and its MC SE."""
    frame = pd.concat([rows.drop(columns=list(CRITERIA), errors="ignore"), met(rows)], axis=1)
    out = []
    for keys, group in frame.groupby(GRID, sort=True):
        r = len(group)
        row: dict[str, Any] = dict(zip(GRID, keys, strict=True)) | {"replicates": r}
        for m in MEASURES:
            if m not in group:
                continue
            v = group[m].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            row[f"{m}_mean"] = float(v.mean()) if len(v) else np.nan
            row[f"{m}_mcse"] = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else np.nan
            for q in (10, 50, 90):
                row[f"{m}_q{q}"] = float(np.percentile(v, q)) if len(v) else np.nan
        for c in CRITERIA:
            share = float(group[c].mean())  # NaN where the criterion is not the cell's
            row[f"{c}_share"] = share
            row[f"{c}_mcse"] = float(np.sqrt(share * (1 - share) / r))
        out.append(row)
    return pd.DataFrame(out)


def needed(table: pd.DataFrame) -> pd.DataFrame:
    """Per design, scenario, learner and criterion: the smallest n of the grid at which the
    criterion holds in at least 80 % of replicates (None: at no n of the grid)."""
    out = []
    for keys, group in table.groupby(GRID[:3], sort=True):
        group = group.sort_values("n")
        for c in CRITERIA:
            if group[f"{c}_share"].isna().all():
                continue
            ok = group[group[f"{c}_share"] >= NEEDED_SHARE]["n"]
            out.append(dict(zip(GRID[:3], keys, strict=True)) | {
                "criterion": c, "patients_needed": int(ok.iloc[0]) if len(ok) else None,
                "largest_n_tried": int(group["n"].max()),
            })  # fmt: skip
    return pd.DataFrame(out)


def slope_crossing(table: pd.DataFrame, level: float = 0.9) -> float | None:
    """Where the mean calibration slope first reaches `level`, interpolated on log n between
    the grid's sizes (None if it never does; the smallest n if it starts above)."""
    t = table.sort_values("n")
    n, slope = t["n"].to_numpy(dtype=float), t["calibration_slope_mean"].to_numpy(dtype=float)
    above = np.flatnonzero(slope >= level)
    if not len(above):
        return None
    i = int(above[0])
    if i == 0:
        return float(n[0])
    x0, x1, y0, y1 = np.log(n[i - 1]), np.log(n[i]), slope[i - 1], slope[i]
    return float(np.exp(x0 + (level - y0) * (x1 - x0) / (y1 - y0)))


def riley_table(references: dict[tuple[str, str], dict[str, float]]) -> pd.DataFrame:
    """Riley's criteria per design and scenario from the reference's true R² (Cox–Snell),
    outcome prevalence and the model's parameters (its model-matrix columns)."""
    out = []
    for (design, scenario), ref in sorted(references.items()):
        size = riley_binary(ref["r2_cs"], int(ref["parameters"]), ref["prevalence"])
        out.append({
            "design": design, "scenario": scenario, "r2_cs": ref["r2_cs"],
            "prevalence": ref["prevalence"], "parameters": int(ref["parameters"]),
            "oracle_auroc": ref["oracle_auroc"], "criterion_1": size.criterion_1,
            "criterion_2": size.criterion_2, "criterion_3": size.criterion_3,
            "riley_minimum": size.minimum,
        })  # fmt: skip
    return pd.DataFrame(out)


def against_riley(table: pd.DataFrame, riley: pd.DataFrame) -> pd.DataFrame:
    """Per design and scenario: where the logistic learner's mean slope reaches 0.9, and its
    ratio to Riley's criterion 1 (target: within 0.75 to 1.25)."""
    out = []
    for _, r in riley.iterrows():
        mine = table[(table["design"] == r["design"]) & (table["scenario"] == r["scenario"])
                     & (table["learner"] == "logistic")]  # fmt: skip
        n = slope_crossing(mine) if len(mine) else None
        out.append({
            "design": r["design"], "scenario": r["scenario"], "criterion_1": r["criterion_1"],
            "logistic_slope_0.9_at": n,
            "ratio": None if n is None else n / r["criterion_1"],
        })  # fmt: skip
    return pd.DataFrame(out)
