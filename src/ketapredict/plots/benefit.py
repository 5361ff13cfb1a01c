"""Benefit figures: calibration for benefit, Qini curves and the policy value over thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ketapredict.plots.inputs import require
from ketapredict.plots.style import (
    BLACK,
    BLUE,
    GREEN,
    ORANGE,
    PURPLE,
    REFERENCE,
    SKY_BLUE,
    VERMILLION,
    decorate,
    figure,
    series_style,
)

ORACLE_NAME = "oracle"
# One fixed style per benefit learner: six Okabe–Ito colours, the naive and risk-based
# approaches dashed, so every series is told apart (the shared fallback has only four).
LEARNER_STYLES: dict[str, dict[str, object]] = {
    "prognostic": {"color": ORANGE, "linestyle": "--"},
    "risk_strata": {"color": PURPLE, "linestyle": "--"},
    "t_learner": {"color": SKY_BLUE, "linestyle": "-"},
    "x_learner": {"color": BLUE, "linestyle": "-"},
    "dr_learner": {"color": GREEN, "linestyle": "-"},
    "causal_forest": {"color": VERMILLION, "linestyle": "-"},
    ORACLE_NAME: {"color": BLACK, "linestyle": ":", "linewidth": 1.8},
}


def _style(name: str, i: int) -> dict:
    if name in LEARNER_STYLES:
        return {"linewidth": 2.0, **LEARNER_STYLES[name]}
    return series_style(name, i)


def plot_benefit_calibration(
    estimate: np.ndarray, truth: np.ndarray, *, title: str = "Calibration for benefit"
) -> Figure:
    """True against estimated benefit: each patient a faint point, tenths of the estimate as
    larger points, and the identity line (a calibrated estimate lies on it)."""
    fig, ax = figure(5.4, 5.0)
    estimate, truth = np.asarray(estimate, dtype=float), np.asarray(truth, dtype=float)
    ax.scatter(estimate, truth, s=3, alpha=0.15, color="#0072B2", linewidths=0)
    tenth = pd.qcut(pd.Series(estimate).rank(method="first"), 10, labels=False)
    binned = pd.DataFrame({"e": estimate, "t": truth}).groupby(tenth).mean()
    ax.scatter(binned["e"], binned["t"], s=36, color="#D55E00", zorder=3, label="tenths")
    low = float(np.nanmin(np.r_[estimate, truth]))
    high = float(np.nanmax(np.r_[estimate, truth]))
    ax.plot([low, high], [low, high], **REFERENCE)
    ax.legend(frameon=False, loc="upper left")
    decorate(ax, title=title, xlabel="Estimated benefit (risk difference)", ylabel="True benefit")
    return fig


def _by_learner(
    curves: pd.DataFrame, x: str, y: str, *, size: tuple[float, float], what: str, **style: object
) -> tuple[Figure, Axes]:
    """One line of `y` over `x` per learner (column `learner`), in the house styles."""
    require(curves, ("learner", x, y), what)
    fig, ax = figure(*size)
    for i, (name, rows) in enumerate(curves.groupby("learner", sort=False)):
        ax.plot(rows[x], rows[y], label=name, **style, **_style(name, i))
    return fig, ax


def plot_calibration_for_benefit(binned: pd.DataFrame, *, title: str) -> Figure:
    """Mean true against mean estimated benefit in tenths of each learner's estimate
    (columns learner, estimate, truth)."""
    fig, ax = _by_learner(
        binned, "estimate", "truth", size=(5.6, 5.0), what="plot_calibration_for_benefit",
        marker="o",
    )  # fmt: skip
    values = binned[["estimate", "truth"]].to_numpy()
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    ax.plot([low, high], [low, high], **REFERENCE)
    ax.legend(frameon=False, fontsize=8)
    decorate(ax, title=title, xlabel="Mean estimated benefit", ylabel="Mean true benefit")
    return fig


def plot_qini(curves: pd.DataFrame, *, title: str) -> Figure:
    """Qini curves (columns learner, share_targeted, qini) with the random-targeting line."""
    fig, ax = _by_learner(curves, "share_targeted", "qini", size=(5.8, 4.6), what="plot_qini")
    end = curves.groupby("learner", sort=False)["qini"].last().mean()
    ax.plot([0, 1], [0, end], **REFERENCE)
    ax.legend(frameon=False, fontsize=8)
    decorate(
        ax, title=title, xlabel="Share of patients treated, highest estimate first",
        ylabel="Incremental responses per patient",
    )  # fmt: skip
    return fig


def plot_policy_value(curves: pd.DataFrame, *, title: str) -> Figure:
    """Responses per 100 patients of 'treat if estimated benefit > t' over t (columns
    learner, threshold, policy_value)."""
    fig, ax = _by_learner(
        curves, "threshold", "policy_value", size=(5.8, 4.6), what="plot_policy_value"
    )
    ax.legend(frameon=False, fontsize=8)
    decorate(
        ax, title=title, xlabel="Threshold t (risk difference)",
        ylabel="Responses per 100 patients (true)",
    )  # fmt: skip
    return fig
