"""The registered benefit model is the fitted X- or DR-learner itself, in a safe file."""

from __future__ import annotations

import numpy as np
import pytest

from ketapredict.benefit.data import INPUTS
from ketapredict.benefit.learners import fit_learner
from ketapredict.benefit.model import SERVABLE, BenefitModel, from_fitted
from ketapredict.benefit.patients import contrast_slope, tau_risk
from ketapredict.errors import ModelError
from ketapredict.features import columns_of
from tests.benefit.conftest import simulate_trial

WIDTH = len(columns_of(INPUTS))


@pytest.fixture(scope="module")
def wide():
    data, benefit, _ = simulate_trial(600, features=WIDTH, seed=3)
    return data, benefit


@pytest.mark.parametrize("name", SERVABLE)
def test_the_served_model_is_the_learner_bit_for_bit(wide, name, tmp_path) -> None:
    data, _ = wide
    fitted = fit_learner(name, data, seed=7)
    model = from_fitted(name, fitted, data.X)
    np.testing.assert_array_equal(model.effect_matrix(data.X), fitted.effect(data.X))
    # SHAP contributions add up to the estimate
    contributions = model.contributions(data.X)
    np.testing.assert_allclose(contributions.sum(axis=1), fitted.effect(data.X), atol=1e-9)
    model.save(tmp_path / "m")
    loaded = BenefitModel.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.effect_matrix(data.X), model.effect_matrix(data.X))
    assert loaded.learner == name and loaded.ranges == model.ranges


def test_a_learner_that_is_not_trees_of_x_is_not_served(wide) -> None:
    data, _ = wide
    with pytest.raises(ModelError, match="not servable"):
        from_fitted("risk_strata", fit_learner("risk_strata", data, seed=7), data.X)


def test_a_malformed_model_folder_is_a_model_error(tmp_path) -> None:
    (tmp_path / "benefit_model.json").write_text("{not json")
    with pytest.raises(ModelError, match="not a ketapredict benefit model"):
        BenefitModel.load(tmp_path)


def test_the_observed_contrast_slope_finds_real_heterogeneity() -> None:
    rng = np.random.default_rng(1)
    truth = rng.uniform(0, 0.6, 4000)
    contrast = truth + rng.normal(0, 1.0, 4000)  # unbiased, very noisy, as observed
    _, low, high = contrast_slope(truth, contrast)
    assert low > 0 and low < 1 < high
    # estimates unrelated to the benefit: the interval holds 0 in about 95 % of trials
    covered = 0
    for _ in range(40):
        noise = rng.uniform(0, 0.6, 4000)
        _, low, high = contrast_slope(noise, truth + rng.normal(0, 1.0, 4000))
        covered += low < 0 < high
    assert covered >= 34
    # closer to the truth, lower tau-risk
    assert tau_risk(truth, contrast) < tau_risk(noise, contrast)
