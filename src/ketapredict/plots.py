"""Report figures drawn from computed curves and tables: pure matplotlib, no pyplot, no I/O."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ketapredict.errors import DataError

MODEL = "LightGBM"
BASELINE = "Logistic"
ORACLE = "Oracle (true risk)"
TREAT_ALL = "Treat all"
TREAT_NONE = "Treat none"

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
PURPLE, SKY_BLUE, BLACK = "#CC79A7", "#56B4E9", "#000000"
GREY, LIGHT_GREY, GRID = "#7F7F7F", "#BBBBBB", "#E5E5E5"

# Line style as well as colour, so the figures survive greyscale printing.
SERIES: dict[str, dict[str, Any]] = {
    MODEL: {"color": BLUE, "linestyle": "-", "linewidth": 2.0},
    BASELINE: {"color": ORANGE, "linestyle": "--", "linewidth": 2.0},
    ORACLE: {"color": BLACK, "linestyle": ":", "linewidth": 1.8},
    TREAT_ALL: {"color": GREY, "linestyle": "-", "linewidth": 1.2},
    TREAT_NONE: {"color": GREY, "linestyle": "--", "linewidth": 1.2},
}
OTHER_COLOURS = (VERMILLION, PURPLE, SKY_BLUE, GREEN)
REFERENCE: dict[str, Any] = {"color": LIGHT_GREY, "linestyle": "--", "linewidth": 1.0, "zorder": 1}

METRIC_LABELS = {
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "brier": "Brier score",
    "scaled_brier": "Scaled Brier score",
    "log_loss": "Log loss",
    "calibration_intercept": "Calibration intercept (log-odds)",
    "calibration_slope": "Calibration slope",
}


def _series_style(name: str, index: int) -> dict[str, Any]:
    """The fixed style of a known series, else the next unused Okabe–Ito colour."""
    if name in SERIES:
        return dict(SERIES[name])
    return {"color": OTHER_COLOURS[index % len(OTHER_COLOURS)], "linewidth": 2.0}


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots()


def _decorate(ax: Axes, *, title: str, xlabel: str, ylabel: str) -> None:
    """The house style, set per axes rather than through rcParams so nothing global changes."""
    if title:
        ax.set_title(title, loc="left", fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what} lacks column(s) {missing}; it has {list(frame.columns)}")


def _require_curves(curves: Mapping[str, pd.DataFrame], columns: Sequence[str], what: str) -> None:
    if not curves:
        raise DataError(f"{what} got no curves to draw")
    for name, frame in curves.items():
        _require(frame, columns, f"{what} curve {name!r}")


def _ci_label(name: str, statistic: str, interval: tuple[float, float, float] | None) -> str:
    if interval is None:
        return name
    estimate, low, high = interval
    return f"{name} ({statistic} {estimate:.2f}, 95% CI {low:.2f}–{high:.2f})"


def plot_roc(
    curves: Mapping[str, pd.DataFrame],
    aurocs: Mapping[str, tuple[float, float, float]] | None = None,
    *,
    title: str = "ROC curve",
) -> Figure:
    """ROC curves (frames with fpr, tpr) of several models on one square panel.

    One panel makes the models directly comparable; AUROC with its interval goes in the legend
    so the figure stands alone, and the chance diagonal marks discrimination no better than a coin.
    """
    _require_curves(curves, ("fpr", "tpr"), "plot_roc")
    fig, ax = _figure(5.6, 5.4)
    for i, (name, frame) in enumerate(curves.items()):
        label = _ci_label(name, "AUROC", (aurocs or {}).get(name))
        ax.plot(frame["fpr"], frame["tpr"], label=label, **_series_style(name, i))
    ax.plot([0, 1], [0, 1], label="Chance (AUROC 0.50)", **REFERENCE)
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal")
    _decorate(
        ax,
        title=title,
        xlabel="False positive rate (1 − specificity)",
        ylabel="True positive rate (sensitivity)",
    )
    ax.legend(loc="lower right", fontsize="small")
    return fig


def plot_pr(
    curves: Mapping[str, pd.DataFrame],
    prevalence: float,
    *,
    auprcs: Mapping[str, tuple[float, float, float]] | None = None,
    title: str = "Precision–recall curve",
) -> Figure:
    """Precision–recall curves (frames with recall, precision) against the no-skill line.

    With an uncommon outcome the PR curve shows what ROC hides: how many of the flagged patients
    are true cases. A model without skill has precision equal to the prevalence everywhere.
    """
    _require_curves(curves, ("recall", "precision"), "plot_pr")
    fig, ax = _figure(5.6, 5.4)
    for i, (name, frame) in enumerate(curves.items()):
        label = _ci_label(name, "AUPRC", (auprcs or {}).get(name))
        ax.plot(frame["recall"], frame["precision"], label=label, **_series_style(name, i))
    ax.axhline(prevalence, label=f"No skill (prevalence {prevalence:.2f})", **REFERENCE)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), aspect="equal")
    _decorate(ax, title=title, xlabel="Recall (sensitivity)", ylabel="Precision (PPV)")
    ax.legend(loc="upper right", fontsize="small")
    return fig


def _calibration_limit(
    smoothed: Mapping[str, pd.DataFrame], binned: pd.DataFrame | None, hist_p: np.ndarray | None
) -> float:
    """Axis limit just above the data, so a model predicting at most 40 % doesn't fill a corner."""
    values = [np.r_[f["predicted"], f["observed"]] for f in smoothed.values()]
    if binned is not None:
        values.append(np.r_[binned["mean_predicted"], binned["observed"]])
    if hist_p is not None:
        values.append(np.asarray(hist_p, dtype=float))
    top = float(np.nanmax(np.concatenate(values))) if values else 1.0
    return min(1.0, np.ceil(top * 1.05 * 10) / 10)


def plot_calibration(
    smoothed: Mapping[str, pd.DataFrame],
    binned: pd.DataFrame | None = None,
    *,
    hist_p: np.ndarray | None = None,
    title: str = "Calibration",
) -> Figure:
    """Observed against predicted risk: smoothed curves with bands, grouped points, a histogram.

    smoothed frames have predicted, observed, lower, upper (the band is shaded); binned has
    mean_predicted, observed, count (marker area ∝ count, so sparse bins look as weak as they
    are). hist_p, the predicted probabilities, adds a histogram below: a curve is only
    trustworthy where patients are.
    """
    _require_curves(smoothed, ("predicted", "observed", "lower", "upper"), "plot_calibration")
    if binned is not None:
        _require(binned, ("mean_predicted", "observed", "count"), "plot_calibration binned")
    fig = Figure(figsize=(5.6, 6.6 if hist_p is not None else 5.4), layout="constrained")
    if hist_p is None:
        ax, hist_ax = fig.subplots(), None
    else:
        ax, hist_ax = fig.subplots(2, 1, sharex=True, height_ratios=(4, 1))
    handles: list[Any] = []
    for i, (name, frame) in enumerate(smoothed.items()):
        style = _series_style(name, i)
        band = ax.fill_between(
            frame["predicted"],
            frame["lower"],
            frame["upper"],
            color=style["color"],
            alpha=0.18,
            linewidth=0,
        )
        (line,) = ax.plot(frame["predicted"], frame["observed"], label=name, **style)
        handles.append(((band, line), f"{name} (smoothed, 95% CI)"))
    if binned is not None:
        area = 10 + 90 * binned["count"] / max(float(binned["count"].max()), 1.0)
        points = ax.scatter(
            binned["mean_predicted"],
            binned["observed"],
            s=area,
            facecolor="white",
            edgecolor=BLACK,
            linewidth=1.0,
            zorder=3,
        )
        handles.append((points, "Grouped observed (area ∝ n)"))
    (diagonal,) = ax.plot([0, 1], [0, 1], **REFERENCE)
    handles.append((diagonal, "Perfect calibration"))
    limit = _calibration_limit(smoothed, binned, hist_p)
    ax.set(xlim=(0, limit), ylim=(0, limit))
    _decorate(ax, title=title, xlabel="Predicted probability", ylabel="Observed proportion")
    ax.legend(*zip(*handles, strict=True), loc="upper left", fontsize="small")
    if hist_ax is not None:
        hist_ax.hist(
            np.asarray(hist_p, dtype=float), bins=np.linspace(0, limit, 41), color=LIGHT_GREY
        )
        _decorate(hist_ax, title="", xlabel="Predicted probability", ylabel="Patients")
        ax.set_xlabel("")
        ax.tick_params(labelbottom=False)
    return fig


def _net_benefit_limits(curves: pd.DataFrame) -> tuple[float, float]:
    """y-limits that follow the model curves, not treat-all's plunge at high thresholds."""
    top = max(float(curves["net_benefit"].max()), 0.01)
    models = curves.loc[~curves["strategy"].isin([TREAT_ALL, TREAT_NONE]), "net_benefit"]
    bottom = min(float(models.min()) if len(models) else 0.0, 0.0)
    margin = 0.15 * top
    return bottom - margin, top + margin


def plot_decision_curve(
    curves: pd.DataFrame, *, title: str = "Decision curve", ylabel: str = "Net benefit"
) -> Figure:
    """Net benefit by threshold (long frame: threshold, strategy, net_benefit), one line each.

    A model is useful at a threshold only where it beats both treating everyone and treating
    no one; the y-axis stops a little below the models so treat-all's fall doesn't flatten them.
    """
    _require(curves, ("threshold", "strategy", "net_benefit"), "plot_decision_curve")
    fig, ax = _figure(6.4, 4.8)
    for i, name in enumerate(dict.fromkeys(curves["strategy"])):
        part = curves[curves["strategy"] == name].sort_values("threshold")
        ax.plot(part["threshold"], part["net_benefit"], label=name, **_series_style(name, i))
    ax.set_xlim(float(curves["threshold"].min()), float(curves["threshold"].max()))
    ax.set_ylim(*_net_benefit_limits(curves))
    _decorate(ax, title=title, xlabel="Threshold probability", ylabel=ylabel)
    ax.legend(loc="upper right", fontsize="small")
    return fig


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
) -> Figure:
    """Forest plot of a metric per subgroup level (group, level, n, estimate, low, high, flag).

    Levels sit under their group so a reader compares like with like; flagged rows are shaded
    and drawn in vermillion, and the overall line shows which way each subgroup departs.
    """
    _require(table, ("group", "level", "estimate", "low", "high"), "plot_subgroups")
    table = table.reset_index(drop=True)
    labels, headers, row_of = _forest_rows(table)
    y = np.empty(len(table))
    y[row_of] = [i for i in range(len(labels)) if i not in headers]
    flag = table["flag"].fillna(False).to_numpy(bool) if "flag" in table else np.zeros(len(y), bool)
    est, low, high = (table[c].to_numpy(float) for c in ("estimate", "low", "high"))
    fig, ax = _figure(6.4, 1.4 + 0.27 * len(labels))
    for rows, colour, marker, label in (
        (~flag, BLUE, "o", "Estimate (95% CI)"),
        (flag, VERMILLION, "D", "Flagged"),
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
    _decorate(ax, title=title, xlabel=f"{name} (95% CI)", ylabel="")
    ax.grid(False, axis="y")
    fig.legend(loc="outside lower center", ncols=3, fontsize="small", frameon=False)
    return fig


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
) -> Figure:
    """Horizontal bars of mean |SHAP| per characteristic, largest on top.

    Characteristics the generator gave no effect are grey and hatched, so importance the model
    finds in them reads as noise or confounding at a glance; truth_column adds the true
    importance as diamonds (it must be on the same scale as the bars to compare).
    """
    _require(table, ("characteristic", "importance"), "plot_importance")
    if truth_column is not None:
        _require(table, (truth_column,), "plot_importance")
    rows = table.sort_values("importance", kind="stable").reset_index(drop=True)
    null = _null_mask(rows)
    y = np.arange(len(rows))
    fig, ax = _figure(6.4, 1.4 + 0.3 * len(rows))
    bars = ax.barh(y, rows["importance"], height=0.7, color=BLUE)
    for bar, is_null in zip(bars, null, strict=True):
        if is_null:
            bar.set(facecolor=LIGHT_GREY, edgecolor=GREY, hatch="///", linewidth=0)
    handles: list[Any] = [Patch(color=BLUE, label="True effect in generator")]
    if null.any():
        handles.append(
            Patch(facecolor=LIGHT_GREY, edgecolor=GREY, hatch="///", label="No true effect")
        )
    if truth_column is not None:
        ax.scatter(rows[truth_column], y, marker="D", s=24, color=BLACK, zorder=3)
        handles.append(Line2D([], [], marker="D", color=BLACK, linestyle="", label="True value"))
    ax.set_yticks(y, rows["characteristic"])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    _decorate(ax, title=title, xlabel=xlabel, ylabel="")
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
    _require(table, ("characteristic", "importance", "true_importance"), "plot_truth_recovery")
    null = _null_mask(table)
    fig, ax = _figure(5.6, 5.0)
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
    for i in np.argsort(-y, kind="stable")[:n_labels]:
        ax.annotate(
            str(table["characteristic"].iloc[i]),
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
    _decorate(ax, title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(loc="lower right", fontsize="small")
    return fig


def save_png(fig: Figure, *, dpi: int = 120) -> bytes:
    """The figure as PNG bytes, identical for identical figures (no version stamp in metadata).

    Kept in memory so the caller (tracking or io) decides where the image goes.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
