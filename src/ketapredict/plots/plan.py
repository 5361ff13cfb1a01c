"""The planner's learning curves: a measure's mean over replicates (10th-90th percentile
band) against the development sample size, one line per learner, Riley's criterion 1 marked."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from ketapredict.plots.inputs import require
from ketapredict.plots.style import (
    BLUE,
    GREEN,
    ORANGE,
    PURPLE,
    REFERENCE,
    SKY_BLUE,
    VERMILLION,
    decorate,
)

MARK = REFERENCE["color"]

STYLES = {
    "logistic": BLUE,
    "penalized_logistic": GREEN,
    "lightgbm": ORANGE,
    "risk_strata": PURPLE,
    "t_learner": SKY_BLUE,
    "x_learner": BLUE,
    "dr_learner": GREEN,
    "causal_forest": VERMILLION,
}
PANELS = {
    "calibration_slope": ("Calibration slope", (0.9, 1.1)),
    "auroc_ratio": ("AUROC / oracle AUROC", (0.95, None)),
    "top5_overlap": ("SHAP top-5 overlap with the truth", (0.8, None)),
}
BENEFIT_PANELS = {
    "pehe": ("PEHE (risk difference)", (None, None)),
    "benefit_spearman": ("Spearman with the true benefit", (None, None)),
    "c_for_benefit": ("c-for-benefit (true)", (0.5, None)),
}


def plot_learning_curves(
    table: pd.DataFrame, *, title: str, riley_n: float | None, panels: dict | None = None
) -> Figure:
    """One panel per measure (default: slope, AUROC ratio, SHAP top-5 overlap; the benefit
    learners': BENEFIT_PANELS) for one design and scenario."""
    panels = panels or PANELS
    require(table, ["learner", "n", *(f"{m}_mean" for m in panels)], "learning curves")
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    axes = fig.subplots(1, len(panels))
    for ax, (measure, (label, (low, high))) in zip(axes, panels.items(), strict=True):
        for learner, rows in table.groupby("learner", sort=False):
            rows = rows.sort_values("n")
            colour = STYLES.get(str(learner), "grey")
            ax.plot(rows["n"], rows[f"{measure}_mean"], marker="o", color=colour, label=learner)
            ax.fill_between(
                rows["n"],
                rows[f"{measure}_q10"],
                rows[f"{measure}_q90"],
                color=colour,
                alpha=0.15,
                linewidth=0,
            )
        for line in (low, high):
            if line is not None:
                ax.axhline(line, color=MARK, linestyle="--", linewidth=1)
        if riley_n is not None:
            ax.axvline(
                riley_n,
                color="black",
                linestyle=":",
                linewidth=1.2,
                label=f"Riley criterion 1 ({riley_n:,.0f})",
            )
        ax.set_xscale("log")
        sizes = sorted(table["n"].unique())
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes], rotation=45)
        ax.minorticks_off()
        decorate(ax, title=label, xlabel="development patients", ylabel=label)
    axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    return fig
