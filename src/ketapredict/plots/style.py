"""The figures' house style: colour-blind-safe palette, fixed series styles, axes, PNG bytes."""

from __future__ import annotations

import io
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ketapredict.contract import BASELINE, MODEL, ORACLE

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


def series_style(name: str, index: int) -> dict[str, Any]:
    """The fixed style of a known series, else the next unused Okabe–Ito colour."""
    if name in SERIES:
        return dict(SERIES[name])
    return {"color": OTHER_COLOURS[index % len(OTHER_COLOURS)], "linewidth": 2.0}


def figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A one-panel Figure (no pyplot: nothing registered globally, safe in threads)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots()


def decorate(ax: Axes, *, title: str, xlabel: str, ylabel: str) -> None:
    """The house style, set per axes rather than through rcParams so nothing global changes."""
    if title:
        ax.set_title(title, loc="left", fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


def ci_label(name: str, statistic: str, interval: tuple[float, float, float] | None) -> str:
    """A legend entry: the series name, with its statistic and 95 % interval when given."""
    if interval is None:
        return name
    estimate, low, high = interval
    return f"{name} ({statistic} {estimate:.2f}, 95% CI {low:.2f}–{high:.2f})"


def save_png(fig: Figure, *, dpi: int = 120) -> bytes:
    """The figure as PNG bytes, identical for identical figures (no version stamp in metadata).

    Kept in memory so the caller (tracking or io) decides where the image goes.
    """
    buffer = io.BytesIO()
    # bbox "tight": text a library put outside the axes (shap's labels) is not cut off
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    return buffer.getvalue()
