"""The calibration figure: smoothed curves with bands, grouped points, a risk histogram."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ketapredict.plots.inputs import require, require_curves
from ketapredict.plots.style import BLACK, LIGHT_GREY, REFERENCE, decorate, series_style


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
    require_curves(smoothed, ("predicted", "observed", "lower", "upper"), "plot_calibration")
    if binned is not None:
        require(binned, ("mean_predicted", "observed", "count"), "plot_calibration binned")
    fig = Figure(figsize=(5.6, 6.6 if hist_p is not None else 5.4), layout="constrained")
    if hist_p is None:
        ax, hist_ax = fig.subplots(), None
    else:
        ax, hist_ax = fig.subplots(2, 1, sharex=True, height_ratios=(4, 1))
    handles: list[Any] = []
    for i, (name, frame) in enumerate(smoothed.items()):
        style = series_style(name, i)
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
    decorate(ax, title=title, xlabel="Predicted probability", ylabel="Observed proportion")
    ax.legend(*zip(*handles, strict=True), loc="upper left", fontsize="small")
    if hist_ax is not None:
        hist_ax.hist(
            np.asarray(hist_p, dtype=float), bins=np.linspace(0, limit, 41), color=LIGHT_GREY
        )
        decorate(hist_ax, title="", xlabel="Predicted probability", ylabel="Patients")
        ax.set_xlabel("")
        ax.tick_params(labelbottom=False)
    return fig
