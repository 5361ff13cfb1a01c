"""SHAP figures (beeswarm, bar, dependence, waterfall) drawn by shap's own plot functions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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
        fig.tight_layout()
    return fig


def plot_shap_waterfall(sv: Shap, row: int, *, title: str = "", max_display: int = 10) -> Figure:
    """How one patient's features move the prediction from the base value, largest first."""
    import shap

    with _shap_canvas(8, 6) as fig:
        shap.plots.waterfall(_explanation(sv)[row], max_display=max_display, show=False)
        fig.axes[0].set_title(title)
        fig.tight_layout()
    return fig
