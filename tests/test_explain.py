"""SHAP finds a planted effect, and truth recovery reports it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketapredict import explain as ex
from ketapredict.cohort.effects import Term
from ketapredict.cohort.generate import generate_trial
from ketapredict.datasets import responder_table
from ketapredict.features import build_features, feature_names
from tests.conftest import simple_trial


def test_shap_ranks_a_planted_strong_effect_first(specs) -> None:
    response = specs.model.response
    planted = [*response.terms, Term(covariate="left_handed", coef=3.0, unit="yes vs no")]
    model = specs.model.model_copy(
        update={"response": response.model_copy(update={"terms": planted})}
    )
    c = generate_trial(simple_trial(), specs.population, model, 6000, np.random.default_rng(1))
    table = responder_table(
        c.patients, c.visits, c.outcomes, c.truth, visit="24h", threshold=0.5, model=model
    ).frame
    X = build_features(table, "responder")[feature_names("responder")]

    import lightgbm as lgb

    from ketapredict.model import KetaModel

    booster = lgb.train({"objective": "binary", "verbosity": -1, "num_leaves": 7, "seed": 1,
                         "deterministic": True, "num_threads": 1},
                        lgb.Dataset(X.to_numpy(), table["y"].to_numpy()), 150)  # fmt: skip
    fitted = KetaModel("responder", booster, {"method": "none"}, {})
    shap_values = ex.tree_shap(fitted, X)
    assert np.allclose(shap_values.values.sum(axis=1) + shap_values.base, fitted.raw_score(X))
    per = ex.by_characteristic(shap_values, "responder")
    importance = ex.importance(per)
    assert importance.index[0] == "left_handed"
    dose = np.ones(len(table))
    truth = ex.true_contributions("responder", table, model, dose)
    summary, recovered = ex.recovery(importance, truth, per, table)
    top_true = recovered.sort_values("true_importance", ascending=False)["characteristic"].iloc[0]
    assert top_true == "left_handed"
    row = recovered.set_index("characteristic").loc["left_handed"]
    assert not row["no_true_effect"] and row["sign_agrees"]
    assert summary["spearman"] > 0.6 and summary["top5_overlap"] >= 0.6


def test_one_hot_features_fold_into_their_characteristic() -> None:
    assert ex.characteristic_of("diagnosis_bipolar", "responder") == "diagnosis"
    assert ex.characteristic_of("route_intranasal", "responder") == ex.TREATMENT
    assert ex.characteristic_of("bmi", "responder") == "bmi"
    shap_values = ex.Shap(
        np.array([[1.0, -2.0, 0.5]]), 0.0, ["route_im", "route_oral", "bmi"], pd.DataFrame()
    )
    per = ex.by_characteristic(shap_values, "responder")
    assert per.loc[0, ex.TREATMENT] == -1.0 and per.loc[0, "bmi"] == 0.5


def test_recovery_counts_noise_in_the_top_five() -> None:
    importance = pd.Series({"a": 5.0, "noise": 4.0, "b": 1.0})
    truth = pd.DataFrame({"a": [1.0, -1.0], "b": [0.5, -0.5], "noise": [0.0, 0.0]})
    per = pd.DataFrame({"a": [1.0, -1.0], "b": [0.2, -0.2], "noise": [0.3, -0.3]})
    rows = pd.DataFrame({"a": [1.0, 0.0], "b": [1.0, 0.0], "noise": [1.0, 0.0]})
    summary, table = ex.recovery(importance, truth, per, rows)
    assert summary["noise_share"] == 0.4 and summary["noise_in_top5"] == 1
    assert table.set_index("characteristic").loc["noise", "no_true_effect"]
