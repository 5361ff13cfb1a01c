"""The subgroup forest plot: a metric with its interval per subgroup level, flagged rows marked."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ketapredict.plots.inputs import require
from ketapredict.plots.style import (
    BLUE,
    GREY,
    METRIC_LABELS,
    REFERENCE,
    VERMILLION,
    decorate,
    figure,
)


def _forest_rows(table: pd.DataFrame) -> tuple[list[str], list[int], list[int]]:
    """Tick labels top to bottom: a bold header per group, then its levels with n."""
    labels: list[str] = []
    headers: list[int] = []
    row_of: list[int] = []
    for group, part in table.groupby("group", sort=False):
        headers.append(len(labels))
        labels.append(str(group))
        for index, row in part.iterrows():
            n = f" (n={int(row['n']):,})" if "n" in row and pd.notna(row["n"]) else ""
            row_of.append(table.index.get_loc(index))
            labels.append(f"{row['level']}{n}")
    return labels, headers, row_of


def plot_subgroups(
    table: pd.DataFrame,
    *,
    metric: str = "auroc",
    overall: float | None = None,
    title: str = "Subgroup performance",
    flag_label: str = "Flagged",
) -> Figure:
    """Forest plot of a metric per subgroup level (group, level, n, estimate, low, high, flag).

    Levels sit under their group so a reader compares like with like; flagged rows are shaded
    and drawn in vermillion, and the overall line shows which way each subgroup departs.
    """
    require(table, ("group", "level", "estimate", "low", "high"), "plot_subgroups")
    table = table.reset_index(drop=True)
    labels, headers, row_of = _forest_rows(table)
    y = np.empty(len(table))
    y[row_of] = [i for i in range(len(labels)) if i not in headers]
    flag = table["flag"].fillna(False).to_numpy(bool) if "flag" in table else np.zeros(len(y), bool)
    est, low, high = (table[c].to_numpy(float) for c in ("estimate", "low", "high"))
    fig, ax = figure(6.4, 1.4 + 0.27 * len(labels))
    for rows, colour, marker, label in (
        (~flag, BLUE, "o", "Estimate (95% CI)"),
        (flag, VERMILLION, "D", flag_label),
    ):
        if rows.any():
            xerr = np.clip([est[rows] - low[rows], high[rows] - est[rows]], 0, None)
            ax.errorbar(
                est[rows],
                y[rows],
                xerr=xerr,
                fmt=marker,
                color=colour,
                markersize=5,
                capsize=2.5,
                linewidth=1.4,
                label=label,
            )
    for row in y[flag]:
        ax.axhspan(row - 0.45, row + 0.45, color=VERMILLION, alpha=0.12, linewidth=0, zorder=0)
    if overall is not None:
        ax.axvline(overall, label=f"Overall ({overall:.2f})", **(REFERENCE | {"color": GREY}))
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    for i, tick in enumerate(ax.get_yticklabels()):
        tick.set_fontweight("bold" if i in headers else "normal")
    for row in y[flag]:
        ax.get_yticklabels()[int(row)].set_color(VERMILLION)
    name = METRIC_LABELS.get(metric, metric.replace("_", " "))
    decorate(ax, title=title, xlabel=f"{name} (95% CI)", ylabel="")
    ax.grid(False, axis="y")
    fig.legend(loc="outside lower center", ncols=3, fontsize="small", frameon=False)
    return fig
