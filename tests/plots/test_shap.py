"""SHAP figures: a Figure each, the same picture for the same values, no global state left."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketapredict.explain import Shap
from ketapredict.plots import shap as plots_shap
from ketapredict.plots.style import save_png


@pytest.fixture(scope="module")
def sv() -> Shap:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.normal(size=(40, 3)), columns=["age", "dose", "bmi"])
    values = data.to_numpy() * [0.5, 0.2, 0.0] + rng.normal(scale=0.05, size=(40, 3))
    return Shap(values=values, base=-0.3, features=list(data.columns), data=data)


def test_each_figure_is_drawn_without_leaving_pyplot_or_random_state_changed(sv: Shap) -> None:
    import matplotlib.pyplot as plt

    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    figures = {
        "beeswarm": plots_shap.plot_shap_beeswarm(sv, title="t"),
        "bar": plots_shap.plot_shap_bar(sv, title="t"),
        "dependence": plots_shap.plot_shap_dependence(sv, "age", color="dose"),
        "waterfall": plots_shap.plot_shap_waterfall(sv, 0, title="t"),
    }
    assert not plt.get_fignums()
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    assert figures["beeswarm"].axes[0].get_title() == "t"
    assert figures["dependence"].axes[0].get_title() == "SHAP dependence: age"


def test_the_same_values_give_the_same_png(sv: Shap) -> None:
    first = save_png(plots_shap.plot_shap_beeswarm(sv), dpi=40)
    assert first == save_png(plots_shap.plot_shap_beeswarm(sv), dpi=40)
