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
    planted = Term(covariate="left_handed", coef=3.0, unit="yes vs no", source="test")
    model = specs.model.model_copy(
        update={
            "response": response.model_copy(update={"predictive": [*response.predictive, planted]})
        }
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


def _relapse_like_rows(n: int = 900, seed: int = 0) -> pd.DataFrame:
    """Three designs; only design c uses esketamine with 20 sessions every 5.6 days (as only
    SUSTAIN-1 does in the relapse data); age varies within designs."""
    rng = np.random.default_rng(seed)
    trial = np.repeat(["a", "b", "c"], n // 3)
    c = trial == "c"
    return pd.DataFrame(
        {
            "trial": trial,
            "drug": np.where(c, "esketamine", "ketamine"),
            "route": np.where(c, "intranasal", "iv"),
            "dose": np.where(c, 84.0, 0.5),
            "sessions": np.where(c, 20.0, 6.0),
            "interval_days": np.select([trial == "a", trial == "b"], [2.2, 3.5], 5.6),
            "age": rng.normal(45, 12, n),
            "bmi": rng.normal(28, 5, n),
        }
    )


def test_characteristics_constant_within_design_and_nested_are_one_block() -> None:
    rows = _relapse_like_rows()
    blocks = ex.aliased_blocks(rows, "relapse")
    assert [sorted(b) for b in blocks] == [["interval_days", "sessions", ex.TREATMENT]]
    # once sessions vary within a design they can be told apart from the treatment
    varied = rows.assign(sessions=np.random.default_rng(1).integers(4, 21, len(rows)).astype(float))
    assert all("sessions" not in b for b in ex.aliased_blocks(varied, "relapse"))


def test_near_collinear_numeric_characteristics_are_one_block() -> None:
    rows = _relapse_like_rows()
    rows["height_cm"] = rows["bmi"] * 3 + np.random.default_rng(2).normal(0, 0.01, len(rows))
    assert ["bmi", "height_cm"] in [sorted(b) for b in ex.aliased_blocks(rows, "relapse")]


def test_block_recovery_credits_a_block_that_holds_the_true_effect() -> None:
    """The model puts the weight on `treatment`, the truth on `sessions`: the same column in
    the data. Raw scoring counts a miss and a false discovery; the block scores it right."""
    rows = _relapse_like_rows(600)
    signal = (rows["sessions"] - rows["sessions"].mean()).to_numpy()
    age = (rows["age"] - rows["age"].mean()).to_numpy() / 12
    per = pd.DataFrame({ex.TREATMENT: signal, "sessions": 0.0, "age": 0.3 * age, "bmi": 0.01})
    truth = pd.DataFrame({ex.TREATMENT: 0.0, "sessions": signal, "age": 0.3 * age, "bmi": 0.0})
    raw, _ = ex.recovery(ex.importance(per), truth, per, rows)
    blocked, table = ex.block_recovery(per, truth, rows, [[ex.TREATMENT, "sessions"]])
    assert raw["noise_share"] > 0.5
    assert blocked["noise_share"] < 0.05 and blocked["spearman"] > raw["spearman"]
    assert f"{ex.TREATMENT} + sessions" in set(table["characteristic"])
