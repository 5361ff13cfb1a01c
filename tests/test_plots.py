"""Report figures: each plot_* returns a Figure showing what it promises, without pyplot."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from ketapredict import plots
from ketapredict.errors import DataError

MODELS = ("LightGBM", "Logistic", "Oracle (true risk)")


def roc_curves() -> dict[str, pd.DataFrame]:
    fpr = np.linspace(0, 1, 11)
    return {
        name: pd.DataFrame({"fpr": fpr, "tpr": fpr ** (0.4 + 0.1 * i)})
        for i, name in enumerate(MODELS)
    }


def smoothed_curves() -> dict[str, pd.DataFrame]:
    grid = np.linspace(0.02, 0.6, 20)
    return {
        name: pd.DataFrame(
            {
                "predicted": grid,
                "observed": grid * k,
                "lower": grid * k - 0.05,
                "upper": grid * k + 0.05,
            }
        )
        for name, k in (("LightGBM", 1.1), ("Logistic", 0.9))
    }


def binned_table() -> pd.DataFrame:
    return pd.DataFrame(
        {"mean_predicted": [0.1, 0.3, 0.5], "observed": [0.12, 0.28, 0.55], "count": [50, 30, 5]}
    )


def decision_curves() -> pd.DataFrame:
    t = np.linspace(0.05, 0.8, 16)
    prevalence = 0.3
    strategies = {
        "LightGBM": np.maximum(prevalence - t * 0.35, -0.02),
        "Logistic": np.maximum(prevalence - t * 0.4, -0.01),
        "Oracle (true risk)": np.maximum(prevalence - t * 0.3, 0.0),
        "Treat all": prevalence - (1 - prevalence) * t / (1 - t),
        "Treat none": np.zeros_like(t),
    }
    return pd.concat(
        pd.DataFrame({"threshold": t, "strategy": name, "net_benefit": nb})
        for name, nb in strategies.items()
    )


def subgroup_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": ["Sex", "Sex", "Route", "Route", "Route"],
            "level": ["Female", "Male", "IV", "Intranasal", "Oral"],
            "n": [300, 250, 320, 180, 50],
            "estimate": [0.72, 0.70, 0.73, 0.69, 0.58],
            "low": [0.66, 0.63, 0.68, 0.61, 0.45],
            "high": [0.78, 0.77, 0.78, 0.77, 0.69],
            "flag": [False, False, False, False, True],
        }
    )


def importance_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "characteristic": ["baseline_madrs", "age", "shoe_size", "prior_failures", "site"],
            "importance": [0.60, 0.20, 0.03, 0.45, 0.05],
            "true_importance": [0.70, 0.25, 0.0, 0.50, 0.0],
            "no_true_effect": [False, False, True, False, True],
        }
    )


def legend_texts(fig: Figure) -> list[str]:
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
    return [t.get_text() for legend in legends for t in legend.get_texts()]


def test_importing_and_drawing_never_loads_pyplot() -> None:
    code = (
        "import sys\n"
        "import pandas as pd\n"
        "from ketapredict import plots\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported by plots'\n"
        "fig = plots.plot_roc({'LightGBM': pd.DataFrame({'fpr': [0, 1], 'tpr': [0, 1]})})\n"
        "assert plots.save_png(fig).startswith(b'\\x89PNG')\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported when drawing'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


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


def test_calibration_draws_bands_points_and_histogram() -> None:
    p = np.random.default_rng(0).uniform(0, 0.6, 500)
    fig = plots.plot_calibration(smoothed_curves(), binned_table(), hist_p=p)
    main, hist = fig.axes
    bands = [c for c in main.collections if isinstance(c, PolyCollection)]
    points = [c for c in main.collections if isinstance(c, PathCollection)]
    assert len(bands) == 2
    assert len(points) == 1 and len(points[0].get_offsets()) == 3
    sizes = points[0].get_sizes()
    assert sizes[0] > sizes[1] > sizes[2]  # marker area follows the bin count
    assert len(main.lines) == 3  # two smoothed curves and the diagonal
    assert len(hist.patches) == 40 and hist.get_shared_x_axes().joined(main, hist)
    assert main.get_xlim() == (0.0, 0.7)  # limit follows the data, not a fixed 0–1
    assert "Grouped observed (area ∝ n)" in legend_texts(fig)


def test_calibration_without_binned_or_histogram_has_one_axes() -> None:
    fig = plots.plot_calibration(smoothed_curves(), None)
    assert len(fig.axes) == 1
    assert not [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]


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


def test_subgroups_highlight_flagged_rows() -> None:
    table = subgroup_table()
    fig = plots.plot_subgroups(table, metric="auroc", overall=0.71)
    ax = fig.axes[0]
    vermillion = plots.VERMILLION.lower()
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
    assert len(plots.plot_truth_recovery(importance_table()).axes[0].texts) == 5


@pytest.mark.parametrize(
    ("call", "frame"),
    [
        (plots.plot_decision_curve, pd.DataFrame({"threshold": [0.1], "strategy": ["x"]})),
        (plots.plot_subgroups, pd.DataFrame({"group": ["a"], "level": ["b"]})),
        (plots.plot_importance, pd.DataFrame({"importance": [0.1]})),
        (plots.plot_truth_recovery, importance_table().drop(columns="true_importance")),
    ],
)
def test_missing_columns_raise_data_error(call: object, frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="lacks column"):
        call(frame)  # type: ignore[operator]


def test_empty_curves_raise_data_error() -> None:
    with pytest.raises(DataError, match="no curves"):
        plots.plot_roc({})


def test_save_png_is_deterministic_png() -> None:
    first = plots.save_png(plots.plot_decision_curve(decision_curves()))
    second = plots.save_png(plots.plot_decision_curve(decision_curves()))
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert first == second
    assert b"Matplotlib" not in first  # no version stamp to change the bytes on upgrade


def test_figures_draw_identically_in_threads() -> None:
    def draw(_: int) -> bytes:
        return plots.save_png(plots.plot_subgroups(subgroup_table(), overall=0.7), dpi=60)

    with ThreadPoolExecutor(max_workers=4) as pool:
        images = list(pool.map(draw, range(4)))
    assert len(set(images)) == 1
