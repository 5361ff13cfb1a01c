"""Explanation figures: SHAP importance per characteristic, and its recovery of the true effects."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ketapredict.plots.inputs import require
from ketapredict.plots.style import BLACK, BLUE, GREY, LIGHT_GREY, decorate, figure


def _null_mask(table: pd.DataFrame) -> np.ndarray:
    if "no_true_effect" not in table:
        return np.zeros(len(table), bool)
    return table["no_true_effect"].fillna(False).to_numpy(bool)


def plot_importance(
    table: pd.DataFrame,
    *,
    truth_column: str | None = None,
    title: str = "Feature importance",
    xlabel: str = "Mean |SHAP value| (log-odds)",
    bar_label: str = "True effect in generator",
) -> Figure:
    """Horizontal bars of mean |SHAP| per characteristic, largest on top.

    Characteristics the generator gave no effect are grey and hatched, so importance the model
    finds in them reads as noise or confounding at a glance; truth_column adds the true
    importance as diamonds (it must be on the same scale as the bars to compare).
    """
    require(table, ("characteristic", "importance"), "plot_importance")
    if truth_column is not None:
        require(table, (truth_column,), "plot_importance")
    rows = table.sort_values("importance", kind="stable").reset_index(drop=True)
    null = _null_mask(rows)
    y = np.arange(len(rows))
    fig, ax = figure(6.4, 1.4 + 0.3 * len(rows))
    bars = ax.barh(y, rows["importance"], height=0.7, color=BLUE)
    for bar, is_null in zip(bars, null, strict=True):
        if is_null:
            bar.set(facecolor=LIGHT_GREY, edgecolor=GREY, hatch="///", linewidth=0)
    handles: list[Any] = [Patch(color=BLUE, label=bar_label)]
    if null.any():
        handles.append(
            Patch(facecolor=LIGHT_GREY, edgecolor=GREY, hatch="///", label="No true effect")
        )
    if truth_column is not None:
        ax.scatter(rows[truth_column], y, marker="D", s=24, color=BLACK, zorder=3)
        handles.append(Line2D([], [], marker="D", color=BLACK, linestyle="", label="True value"))
    # a long name (a block of aliased characteristics) on two lines, not squeezing the bars
    ax.set_yticks(y, [textwrap.fill(str(c), 34) for c in rows["characteristic"]])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    decorate(ax, title=title, xlabel=xlabel, ylabel="")
    ax.grid(False, axis="y")
    ax.legend(handles=handles, loc="lower right", fontsize="small")
    return fig


def plot_truth_recovery(
    table: pd.DataFrame,
    *,
    spearman: float | None = None,
    n_labels: int = 8,
    title: str = "Recovery of true effects",
    xlabel: str = "True importance",
    ylabel: str = "Mean |SHAP value| (log-odds)",
) -> Figure:
    """SHAP importance against the generator's true importance, one point per characteristic.

    Points rising together mean the explanation ranks what truly matters first; the n_labels
    most important are named, and spearman (computed by the caller) is printed on the panel.
    """
    require(table, ("characteristic", "importance", "true_importance"), "plot_truth_recovery")
    null = _null_mask(table)
    fig, ax = figure(5.6, 5.0)
    x, y = table["true_importance"].to_numpy(float), table["importance"].to_numpy(float)
    ax.scatter(x[~null], y[~null], s=36, color=BLUE, label="True effect in generator", zorder=3)
    if null.any():
        ax.scatter(
            x[null],
            y[null],
            s=36,
            facecolor="white",
            edgecolor=GREY,
            label="No true effect",
            zorder=3,
        )
    right_half = x > (np.nanmin(x) + np.nanmax(x)) / 2
    # name the most important, but not a point crowded by one already named (the importance
    # figure names them all): overlapping labels name nothing
    span = np.array([np.nanmax(x) - np.nanmin(x), np.nanmax(y) - np.nanmin(y)]) + 1e-12
    named: list[np.ndarray] = []
    for i in np.argsort(-y, kind="stable")[:n_labels]:
        at = np.array([x[i], y[i]]) / span
        if any(np.abs(at - other).max() < 0.08 for other in named):
            continue
        named.append(at)
        ax.annotate(
            textwrap.fill(str(table["characteristic"].iloc[i]), 24),
            (x[i], y[i]),
            xytext=(-5, 3) if right_half[i] else (5, 3),
            textcoords="offset points",
            ha="right" if right_half[i] else "left",
            fontsize="x-small",
        )
    if spearman is not None:
        ax.text(
            0.03,
            0.97,
            f"Spearman ρ = {spearman:.2f}",
            transform=ax.transAxes,
            va="top",
            bbox={"facecolor": "white", "edgecolor": LIGHT_GREY, "boxstyle": "round"},
        )
    decorate(ax, title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(loc="lower right", fontsize="small")
    return fig
