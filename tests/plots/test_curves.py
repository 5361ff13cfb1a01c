"""ROC, precision–recall and decision curves show what they promise."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from ketapredict import plots
from tests.plots.helpers import MODELS, decision_curves, legend_texts, roc_curves


def test_roc_legend_shows_auroc_with_interval() -> None:
    aurocs = {"LightGBM": (0.70, 0.68, 0.72), "Logistic": (0.66, 0.63, 0.69)}
    fig = plots.plot_roc(roc_curves(), aurocs)
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    assert len(ax.lines) == len(MODELS) + 1  # plus the chance diagonal
    texts = legend_texts(fig)
    assert "LightGBM (AUROC 0.70, 95% CI 0.68–0.72)" in texts
    assert "Oracle (true risk)" in texts  # no interval given: the bare name
    assert any(t.startswith("Chance") for t in texts)
    assert ax.get_title(loc="left") == "ROC curve" and ax.get_xlabel() and ax.get_ylabel()


def test_roc_without_aurocs_labels_names_only() -> None:
    texts = legend_texts(plots.plot_roc(roc_curves()))
    assert texts[: len(MODELS)] == list(MODELS)


def test_pr_draws_prevalence_line() -> None:
    curves = {"LightGBM": pd.DataFrame({"recall": [0, 0.5, 1], "precision": [1, 0.6, 0.3]})}
    fig = plots.plot_pr(curves, 0.3, auprcs={"LightGBM": (0.61, 0.55, 0.66)})
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    assert list(ax.lines[1].get_ydata()) == [0.3, 0.3]
    assert "LightGBM (AUPRC 0.61, 95% CI 0.55–0.66)" in legend_texts(fig)
    assert "No skill (prevalence 0.30)" in legend_texts(fig)


def test_decision_curve_clips_treat_all() -> None:
    curves = decision_curves()
    fig = plots.plot_decision_curve(curves)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == list(dict.fromkeys(curves["strategy"]))
    bottom, top = ax.get_ylim()
    treat_all = curves.loc[curves["strategy"] == "Treat all", "net_benefit"]
    models = curves.loc[curves["strategy"].isin(MODELS), "net_benefit"]
    assert treat_all.min() < bottom <= models.min()
    assert top >= curves["net_benefit"].max()
    assert ax.get_ylabel() == "Net benefit"
