"""Evaluation core: the oracle yardstick, subgroup flags, decision curves, leave-one-design-out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from ketapredict import evaluate as ev
from ketapredict.contract import BASELINE, MODEL, ORACLE
from ketapredict.subgroups import subgroups


def _test_frame(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    group = np.where(rng.random(n) < 0.5, "a", "b")
    p_true = expit(0.2 + 1.2 * x)
    return pd.DataFrame(
        {
            "patient_id": np.arange(n),
            "x": x,
            "y": (rng.random(n) < p_true).astype(int),
            "weight": 1.0,
            "p_true": p_true,
            "p_true_control": expit(-1 + 0 * x),
            "sex": group,
            "age_band": "40-59",
            "trial": np.where(rng.random(n) < 0.5, "t1", "t2"),
            "route": "iv",
        }
    )


def test_the_oracle_is_the_yardstick() -> None:
    test = _test_frame()
    noisy = expit(logit(test["p_true"]) + np.random.default_rng(1).normal(0, 1.0, len(test)))
    out = ev.evaluate_test(test, {MODEL: noisy.to_numpy()}, rng=np.random.default_rng(2),
                           resamples=200, thresholds=np.arange(0.05, 1, 0.05))  # fmt: skip
    model, oracle = out.summary[MODEL], out.summary[ORACLE]
    assert model["auroc"] < oracle["auroc"]
    assert model["auroc_vs_oracle"] == pytest.approx(model["auroc"] / oracle["auroc"])
    assert model["net_benefit_regret_mean"] > 0
    assert model["truth_mean_abs"] > 0.05
    assert model["auroc_low"] < model["auroc"] < model["auroc_high"]
    assert {
        "roc:LightGBM",
        "pr:LightGBM",
        "calibration:LightGBM",
        "decision",
        "counterfactual",
    } <= set(out.curves)


def test_decision_curve_treat_none_is_zero_and_treat_all_by_hand() -> None:
    y = np.array([1, 0, 1, 0])
    dc = ev.decision_curves(y, {"m": np.array([0.9, 0.2, 0.6, 0.4])}, np.array([0.5]))
    by = dict(zip(dc["strategy"], dc["net_benefit"], strict=True))
    assert by["Treat none"] == 0
    assert by["Treat all"] == pytest.approx(0.5 - 0.5 * 1.0)
    assert by["m"] == pytest.approx(2 / 4)  # treats the two responders, no false positives


def test_subgroup_flags_a_miscalibrated_group_not_a_narrow_one() -> None:
    test = _test_frame(8000)
    p = test["p_true"].to_numpy().copy()
    b = (test["sex"] == "b").to_numpy()
    p[b] = expit(logit(p[b]) + 1.0)  # over-predicts in group b
    table = subgroups(test, p, rng=np.random.default_rng(3), resamples=200, min_rows=100)
    flags = dict(zip(table["level"], table["flag"], strict=False))
    assert flags["b"] and not flags["a"]
    # a group with less spread of risk has a lower AUROC but the model is as good as the oracle
    narrow = test[np.abs(test["x"]) < 0.5].copy()
    narrow["sex"] = "narrow"
    table = subgroups(narrow, narrow["p_true"].to_numpy(), rng=np.random.default_rng(4),
                         resamples=200, min_rows=100)  # fmt: skip
    assert not table["flag"].any()


def test_leave_one_design_out_gives_one_row_per_design() -> None:
    test = _test_frame()

    def fit_predict(X, y, w, groups, X_eval):
        return LogisticRegression().fit(X, y, sample_weight=w).predict_proba(X_eval)[:, 1]

    table = ev.internal_external(test, test[["x"]], fit_predict, min_rows=100)
    assert set(table["trial"]) == {"t1", "t2"}
    assert (table["auroc"] > 0.7).all() and (table["calibration_slope"].between(0.8, 1.2)).all()


def test_thin_keeps_the_ends() -> None:
    frame = pd.DataFrame({"a": np.arange(1000)})
    out = ev.thin(frame, 50)
    assert len(out) <= 50 and out["a"].iloc[0] == 0 and out["a"].iloc[-1] == 999


def test_no_subgroup_is_flagged_where_the_oracle_is_as_bad() -> None:
    """Outcomes in group b run one logit below the recorded truth: the oracle is miscalibrated
    there too, so a model as good as the oracle must not be flagged (it was, on the model's
    own calibration intercept)."""
    test = _test_frame(8000)
    b = (test["sex"] == "b").to_numpy()
    shifted = expit(logit(test["p_true"].to_numpy()) - 1.0)
    draw = np.random.default_rng(5).random(len(test))
    test.loc[b, "y"] = (draw[b] < shifted[b]).astype(int)
    p = test["p_true"].to_numpy()
    table = subgroups(test, p, rng=np.random.default_rng(3), resamples=300, min_rows=100)
    in_b = table[table["level"] == "b"]
    assert (in_b["calibration_intercept"] < -0.6).all()  # miscalibrated in b, and so is the oracle
    assert not table["flag"].any()
    # the same group with a model worse than the oracle there is flagged, after Holm
    worse = p.copy()
    worse[b] = expit(logit(p[b]) + 1.0)
    table = subgroups(test, worse, rng=np.random.default_rng(3), resamples=300, min_rows=100)
    flags = dict(zip(table["level"], table["flag"], strict=False))
    assert flags["b"] and not flags["a"], table[["group", "level", "p_calibration_holm"]]
    assert "calibrated worse than the oracle" in table.set_index("level").loc["b", "flag_reason"]


def test_paired_differences_are_zero_for_the_same_model_and_signed_otherwise() -> None:
    test = _test_frame(4000)
    truth = test["p_true"].to_numpy()
    noisy = expit(logit(truth) + np.random.default_rng(1).normal(0, 1.0, len(test)))
    out = ev.evaluate_test(
        test,
        {MODEL: noisy, BASELINE: noisy.copy()},
        rng=np.random.default_rng(2),
        resamples=300,
        thresholds=np.arange(0.05, 1, 0.05),
    )
    same = out.paired["model_minus_baseline"]
    for key in ("auroc", "brier", "net_benefit_mean"):
        assert same[key] == same[f"{key}_low"] == same[f"{key}_high"] == 0
    vs_oracle = out.paired["model_minus_oracle"]
    assert vs_oracle["auroc_high"] < 0 and vs_oracle["brier_low"] > 0
    assert vs_oracle["auroc"] == pytest.approx(
        out.summary[MODEL]["auroc"] - out.summary[ORACLE]["auroc"]
    )
    curve = out.tables["paired_net_benefit"]
    assert set(curve["comparison"]) == {"model_minus_baseline", "model_minus_oracle"}
    assert (curve["low"] <= curve["estimate"] + 1e-12).all()


def test_design_only_auroc_and_within_design_auroc() -> None:
    """Designs with different outcome rates: a model that only knows the design has a pooled
    AUROC well above 0.5 and a within-design AUROC of exactly 0.5."""
    rng = np.random.default_rng(6)
    n = 6000
    trial = np.where(rng.random(n) < 0.5, "t1", "t2")
    p_true = expit(np.where(trial == "t1", -2, 0.5))
    y = (rng.random(n) < p_true).astype(int)
    frame = pd.DataFrame({"y": y, "weight": 1.0, "trial": trial, "p_true": p_true})
    train, test = frame.iloc[:3000], frame.iloc[3000:].reset_index(drop=True)
    design_rate = test["trial"].map(train.groupby("trial")["y"].mean()).to_numpy()
    out, table = ev.by_design(train, test, {MODEL: design_rate}, rng=rng, resamples=200,
                              min_rows=100)  # fmt: skip
    assert out["design_only_auroc"] > 0.7
    assert out["within_design_auroc_model"] == pytest.approx(0.5)
    assert out["within_design_auroc_oracle"] == pytest.approx(0.5)
    assert out["design_only_auroc_low"] < out["design_only_auroc"] < out["design_only_auroc_high"]
    assert set(table["trial"]) == {"t1", "t2"} and (table["auroc_model"] == 0.5).all()


def test_holm_adjustment() -> None:
    from ketapredict import paired

    adjusted = paired.holm(np.array([0.01, 0.04, 0.03, 0.5]))
    np.testing.assert_allclose(adjusted, [0.04, 0.09, 0.09, 0.5])
