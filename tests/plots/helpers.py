"""Small curve and table frames, and a reader of legends, shared by the figures' tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ketapredict.contract import BASELINE, MODEL, ORACLE

MODELS = (MODEL, BASELINE, ORACLE)


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
