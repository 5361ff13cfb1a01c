"""The benefit evaluation on constructed patients: the oracle is perfect, noise is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketapredict.benefit.evaluation import NAIVE, ORACLE, evaluate


@pytest.fixture(scope="module")
def trial():
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(size=n)
    p0 = 1 / (1 + np.exp(-(-0.5 - 1.5 * x)))  # prognostic: x lowers response on both arms
    benefit = np.where(x > 0, 0.35, -0.05)  # predictive: only x > 0 benefit
    p1 = np.clip(p0 + benefit, 0, 1)
    people = pd.DataFrame(
        {
            "patient_id": np.arange(n),
            "benefit_true": p1 - p0,
            "p_true_treated": p1,
            "p_true_control": p0,
        }
    )
    treated = rng.integers(0, 2, n)
    y = (rng.random(n) < np.where(treated == 1, p1, p0)).astype(int)
    rows = pd.DataFrame({"patient_id": np.arange(n), "treated": treated, "y": y})
    estimates = {
        "good": people["benefit_true"].to_numpy() + rng.normal(0, 0.05, n),
        NAIVE: p1,  # ranks by response on ketamine, not by benefit
        "noise": rng.normal(0.15, 0.1, n),
    }
    return people, rows, estimates


@pytest.fixture(scope="module")
def evaluated(trial):
    people, rows, estimates = trial
    return evaluate(people, rows, estimates, best="good", threshold=0.0, seed=1, resamples=200)


def test_the_oracle_is_perfect_and_noise_is_not(evaluated) -> None:
    out = evaluated
    oracle, good, noise = out.summary[ORACLE], out.summary["good"], out.summary["noise"]
    assert oracle["pehe"] == 0 and oracle["regret"] == 0
    assert oracle["calibration_slope"] == pytest.approx(1.0)
    assert good["spearman"] > 0.6 and noise["spearman_high"] < 0.2
    assert good["share_of_oracle_gain"] > 0.8 > noise["share_of_oracle_gain"]
    assert good["pehe_low"] <= good["pehe"] <= good["pehe_high"]
    assert "pehe" not in out.summary[NAIVE]  # a response score is not a risk difference


def test_the_naive_score_loses_policy_value_paired(evaluated) -> None:
    out = evaluated
    naive = out.paired[f"{NAIVE}_minus_good"]
    assert naive["policy_value_high"] < 0  # the interval excludes 0
    # the naive policy treats as many patients as the best learner's
    assert out.summary[NAIVE]["share_treated"] == pytest.approx(
        out.summary["good"]["share_treated"], abs=0.01
    )
    assert set(out.curves) == {"qini", "calibration_for_benefit", "policy_value"}
