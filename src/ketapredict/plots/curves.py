"""ROC, precision–recall and decision curves of several models, each on one panel."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from matplotlib.figure import Figure

from ketapredict.plots.inputs import require, require_curves
from ketapredict.plots.style import (
    REFERENCE,
    TREAT_ALL,
    TREAT_NONE,
    ci_label,
    decorate,
    figure,
    series_style,
)


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
    require_curves(curves, ("fpr", "tpr"), "plot_roc")
    fig, ax = figure(5.6, 5.4)
    for i, (name, frame) in enumerate(curves.items()):
        label = ci_label(name, "AUROC", (aurocs or {}).get(name))
        ax.plot(frame["fpr"], frame["tpr"], label=label, **series_style(name, i))
    ax.plot([0, 1], [0, 1], label="Chance (AUROC 0.50)", **REFERENCE)
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal")
    decorate(
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
    require_curves(curves, ("recall", "precision"), "plot_pr")
    fig, ax = figure(5.6, 5.4)
    for i, (name, frame) in enumerate(curves.items()):
        label = ci_label(name, "AUPRC", (auprcs or {}).get(name))
        ax.plot(frame["recall"], frame["precision"], label=label, **series_style(name, i))
    ax.axhline(prevalence, label=f"No skill (prevalence {prevalence:.2f})", **REFERENCE)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), aspect="equal")
    decorate(ax, title=title, xlabel="Recall (sensitivity)", ylabel="Precision (PPV)")
    ax.legend(loc="upper right", fontsize="small")
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
    require(curves, ("threshold", "strategy", "net_benefit"), "plot_decision_curve")
    fig, ax = figure(6.4, 4.8)
    for i, name in enumerate(dict.fromkeys(curves["strategy"])):
        part = curves[curves["strategy"] == name].sort_values("threshold")
        ax.plot(part["threshold"], part["net_benefit"], label=name, **series_style(name, i))
    ax.set_xlim(float(curves["threshold"].min()), float(curves["threshold"].max()))
    ax.set_ylim(*_net_benefit_limits(curves))
    decorate(ax, title=title, xlabel="Threshold probability", ylabel=ylabel)
    ax.legend(loc="upper right", fontsize="small")
    return fig
