"""The calibration figure: bands, grouped points sized by count, the risk histogram."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PathCollection, PolyCollection

from ketapredict import plots
from tests.plots.helpers import binned_table, legend_texts, smoothed_curves


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
