"""SHAP figures (beeswarm, bar, dependence, waterfall) drawn by shap's own plot functions."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np
from matplotlib.figure import Figure

from ketapredict.explain import Shap


@contextlib.contextmanager
def _shap_canvas(width: float, height: float, seed: int = 0) -> Iterator[Figure]:
    """A fresh pyplot figure for shap to draw on, unregistered from pyplot afterwards; shap
    jitters with NumPy's global random state, so that is seeded here and restored after:
    same values, same picture, nothing left behind."""
    import matplotlib.pyplot as plt

    state = np.random.get_state()
    np.random.seed(seed)
    fig = plt.figure(figsize=(width, height))
    try:
        yield fig
    finally:
        np.random.set_state(state)
        plt.close(fig)


def _explanation(sv: Shap) -> object:
    import shap

    return shap.Explanation(
        values=sv.values,
        base_values=np.full(len(sv.values), sv.base),
        data=sv.data.to_numpy(dtype=float),
        feature_names=sv.features,
    )


def plot_shap_beeswarm(sv: Shap, *, title: str = "", max_display: int = 15) -> Figure:
    """Every patient's SHAP value per feature, features by mean |SHAP|, coloured by value."""
    import shap

    with _shap_canvas(9, 7) as fig:
        shap.plots.beeswarm(_explanation(sv), max_display=max_display, show=False, plot_size=None)
        fig.axes[0].set_title(title)
        fig.tight_layout()
    return fig


def plot_shap_bar(sv: Shap, *, title: str = "", max_display: int = 15) -> Figure:
    """Mean |SHAP value| per model feature."""
    import shap

    with _shap_canvas(9, 7) as fig:
        shap.plots.bar(_explanation(sv), max_display=max_display, show=False)
        fig.axes[0].set_title(title)
        fig.tight_layout()
    return fig


def plot_shap_dependence(
    sv: Shap, feature: str, *, color: str | None = None, title: str = ""
) -> Figure:
    """SHAP value of `feature` against its value, coloured by `color` (default: the feature
    with the strongest approximate interaction, as shap picks it)."""
    import shap

    exp = _explanation(sv)
    i = sv.features.index(feature)
    colour = exp[:, sv.features.index(color)] if color else exp
    with _shap_canvas(7, 5) as fig:
        ax = fig.add_subplot()
        shap.plots.scatter(exp[:, i], color=colour, ax=ax, show=False)
        ax.set_title(title or f"SHAP dependence: {feature}")
        ax.set_ylabel(f"SHAP value of {feature} (log-odds)")
        if color:
            _whole_colour_bar(fig, sv.data[sv.data.columns[sv.features.index(color)]])
        fig.tight_layout()
    return fig


def _whole_colour_bar(fig: Figure, values: object) -> None:
    """A count or a 0/1 characteristic's colour bar in whole numbers, not 1.83 steps."""
    from matplotlib.ticker import FormatStrFormatter, MaxNLocator

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v) or np.any(v != np.round(v)):
        return
    for bar in (a for a in fig.axes if getattr(a, "_colorbar", None) is not None):
        bar.yaxis.set_major_locator(MaxNLocator(integer=True))
        bar.yaxis.set_major_formatter(FormatStrFormatter("%d"))


def plot_shap_waterfall(
    sv: Shap,
    row: int,
    *,
    title: str = "",
    max_display: int = 10,
    to_probability: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Figure:
    """How one patient's features move the prediction from the base value, largest first, in
    log-odds; `to_probability` (the model's map from log-odds to its probability) adds the
    same axis in probability below."""
    import shap

    with _shap_canvas(8, 6.6 if to_probability else 6) as fig:
        shap.plots.waterfall(_explanation(sv)[row], max_display=max_display, show=False)
        ax = fig.axes[0]
        ax.set_title(title)
        if to_probability is not None:
            _probability_axis(ax, to_probability)
        else:
            fig.tight_layout()
    return fig


def _probability_axis(ax: object, to_probability: Callable[[np.ndarray], np.ndarray]) -> None:
    """A second x axis under the log-odds one, labelled with the predicted probability."""
    low, high = ax.get_xlim()  # type: ignore[attr-defined]
    grid = np.linspace(low - 1, high + 1, 2001)
    p = np.asarray(to_probability(grid), dtype=float)
    p = np.maximum.accumulate(p) + np.linspace(0, 1e-9, len(p))  # monotone, so invertible
    below = ax.secondary_xaxis(  # type: ignore[attr-defined]
        -0.2, functions=(lambda m: np.interp(m, grid, p), lambda q: np.interp(q, p, grid))
    )
    below.set_xlabel("The same in predicted probability (the model's, calibrated)")
