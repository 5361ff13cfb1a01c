"""Importance and truth-recovery figures mark characteristics without a true effect."""

from __future__ import annotations

from ketapredict import plots
from tests.plots.helpers import importance_table, legend_texts


def test_importance_marks_null_characteristics_and_truth() -> None:
    table = importance_table()
    fig = plots.plot_importance(table, truth_column="true_importance")
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == len(table)
    assert bars[-1].get_width() == table["importance"].max()  # largest on top
    assert sum(bool(b.get_hatch()) for b in bars) == int(table["no_true_effect"].sum())
    (truth,) = ax.collections
    assert len(truth.get_offsets()) == len(table)
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "baseline_madrs"
    assert {"No true effect", "True value"} <= set(legend_texts(fig))


def test_importance_without_truth_or_null_column() -> None:
    table = importance_table()[["characteristic", "importance"]]
    fig = plots.plot_importance(table)
    assert not fig.axes[0].collections
    assert legend_texts(fig) == ["True effect in generator"]


def test_truth_recovery_labels_top_points_and_spearman() -> None:
    fig = plots.plot_truth_recovery(importance_table(), spearman=0.9, n_labels=2)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[:2] == ["baseline_madrs", "prior_failures"]
    assert "Spearman ρ = 0.90" in texts
    # shoe_size sits next to site (more important, named): overlapping labels name nothing
    named = [t.get_text() for t in plots.plot_truth_recovery(importance_table()).axes[0].texts]
    assert len(named) == 4 and "site" in named and "shoe_size" not in named
