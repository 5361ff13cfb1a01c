"""The subgroup forest plot: groups as headers, flagged rows in vermillion."""

from __future__ import annotations

from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from ketapredict import plots
from ketapredict.plots.style import VERMILLION
from tests.plots.helpers import legend_texts, subgroup_table


def test_subgroups_highlight_flagged_rows() -> None:
    table = subgroup_table()
    fig = plots.plot_subgroups(table, metric="auroc", overall=0.71)
    ax = fig.axes[0]
    vermillion = VERMILLION.lower()
    shaded = [p for p in ax.patches if to_hex(p.get_facecolor()) == vermillion]
    assert len(shaded) == int(table["flag"].sum())
    labels = ax.get_yticklabels()
    assert [t.get_text() for t in labels][:3] == ["Sex", "Female (n=300)", "Male (n=250)"]
    assert [t.get_text() for t in labels if t.get_fontweight() == "bold"] == ["Sex", "Route"]
    flagged = [t.get_text() for t in labels if to_hex(t.get_color()) == vermillion]
    assert flagged == ["Oral (n=50)"]
    assert any(list(line.get_xdata()) == [0.71, 0.71] for line in ax.lines)
    assert ax.get_xlabel() == "AUROC (95% CI)"
    assert "Flagged" in legend_texts(fig)


def test_subgroups_accept_estimate_outside_its_interval() -> None:
    table = subgroup_table().assign(low=lambda t: t["estimate"] + 0.01)
    assert isinstance(plots.plot_subgroups(table), Figure)
