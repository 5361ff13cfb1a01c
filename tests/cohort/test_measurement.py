"""Recorded covariates: misclassified at the spec's sensitivity and specificity, noisy
amounts keep their zeros and their mean, and the true values are left alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketapredict.cohort.measurement import DoseNoise, Measurement, Misclassification, observe

N = 200_000


@pytest.fixture(scope="module")
def true() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    dose = np.where(rng.random(N) < 0.3, rng.lognormal(np.log(10), 0.7, N), 0.0)
    return pd.DataFrame(
        {
            "family_history_aud": (rng.random(N) < 0.3).astype(np.float64),
            "prior_suicide_attempt": (rng.random(N) < 0.28).astype(np.float64),
            "benzodiazepine_mg": dose,
            "age": rng.normal(45, 12, N).round(),
        }
    )


def test_misclassification_rates_match_sensitivity_and_specificity(true) -> None:
    error = Misclassification(sensitivity=0.6, specificity=0.9)
    measurement = Measurement(misclassified={"family_history_aud": error}, noisy={})
    recorded = observe(true, measurement, np.random.default_rng(1))["family_history_aud"]
    is_case = true["family_history_aud"] == 1
    assert recorded[is_case].mean() == pytest.approx(0.6, abs=0.01), "sensitivity"
    assert 1 - recorded[~is_case].mean() == pytest.approx(0.9, abs=0.01), "specificity"
    assert set(recorded.unique()) == {0.0, 1.0}


def test_the_default_misclassification_is_the_literature_anchor(true) -> None:
    recorded = observe(true, Measurement(), np.random.default_rng(2))
    for column, sensitivity in (("family_history_aud", 0.6), ("prior_suicide_attempt", 0.8)):
        is_case = true[column] == 1
        assert recorded.loc[is_case, column].mean() == pytest.approx(sensitivity, abs=0.01)
        assert recorded.loc[~is_case, column].mean() == pytest.approx(0.03, abs=0.01)


def test_noise_keeps_zeros_and_the_mean_with_the_set_cv(true) -> None:
    measurement = Measurement(misclassified={}, noisy={"benzodiazepine_mg": DoseNoise(cv=0.3)})
    recorded = observe(true, measurement, np.random.default_rng(3))["benzodiazepine_mg"]
    dose = true["benzodiazepine_mg"]
    assert (recorded[dose == 0] == 0).all()
    ratio = recorded[dose > 0] / dose[dose > 0]
    assert ratio.min() > 0
    assert ratio.mean() == pytest.approx(1.0, abs=0.01)
    assert ratio.std() == pytest.approx(0.3, abs=0.01)
    assert recorded.mean() == pytest.approx(dose.mean(), rel=0.02)


def test_observe_leaves_the_true_values_alone_and_repeats_with_the_seed(true) -> None:
    before = true.copy()
    first = observe(true, Measurement(), np.random.default_rng(4))
    pd.testing.assert_frame_equal(true, before)
    pd.testing.assert_frame_equal(first, observe(true, Measurement(), np.random.default_rng(4)))
    assert (first["family_history_aud"] != true["family_history_aud"]).any()
    assert (first["age"] == true["age"]).all(), "a column with no measurement error is kept"


def test_missing_and_absent_columns_are_left_as_they_are(true) -> None:
    some = true[["family_history_aud", "age"]].head(1000).copy()
    some.loc[:99, "family_history_aud"] = np.nan
    recorded = observe(some, Measurement(), np.random.default_rng(5))
    assert recorded["family_history_aud"].isna().sum() == 100
    assert list(recorded.columns) == ["family_history_aud", "age"]


def test_perfect_measurement_records_the_truth(true) -> None:
    exact = Measurement(
        misclassified={"family_history_aud": Misclassification(sensitivity=1, specificity=1)},
        noisy={"benzodiazepine_mg": DoseNoise(cv=0)},
    )
    pd.testing.assert_frame_equal(observe(true, exact, np.random.default_rng(6)), true)
