"""Net benefit: observed decision curves by hand, and the expected (counterfactual) curve."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit

from ketapredict import metrics as m
from ketapredict.errors import ConfigError, DataError

Y6 = np.array([1, 1, 0, 1, 0, 0])
P6 = np.array([0.9, 0.6, 0.5, 0.3, 0.2, 0.1])


def test_net_benefit_by_hand():
    # t = 0.25 treats the top four: 3 cases (TP), 1 non-case (FP); t = 0.3 still treats p = 0.3.
    # t = 0.55 treats the top two, both cases.
    nb = m.net_benefit(Y6, P6, [0.25, 0.3, 0.55])
    expected = [3 / 6 - 1 / 6 * (0.25 / 0.75), 3 / 6 - 1 / 6 * (0.3 / 0.7), 2 / 6]
    np.testing.assert_allclose(nb, expected)


def test_net_benefit_treat_all_by_hand():
    y = np.array([1, 0, 0, 1, 0, 0])  # prevalence 1/3
    np.testing.assert_allclose(
        m.net_benefit_treat_all(y, [0.25, 0.5]), [1 / 3 - 2 / 3 * (1 / 3), 1 / 3 - 2 / 3]
    )


def test_net_benefit_equals_treat_all_below_every_prediction():
    np.testing.assert_allclose(m.net_benefit(Y6, P6, [0.05]), m.net_benefit_treat_all(Y6, [0.05]))


def test_net_benefit_rejects_thresholds_outside_unit_interval():
    with pytest.raises(ConfigError):
        m.net_benefit(Y6, P6, [0.0, 0.5])


def test_counterfactual_net_benefit_by_hand():
    p = np.array([0.8, 0.4, 0.1])
    p_treated = np.array([0.6, 0.5, 0.2])
    p_control = np.array([0.1, 0.5, 0.1])
    out = m.counterfactual_net_benefit(p, p_treated, p_control, [0.3])
    # The model treats patients 1 and 2, the oracle (p_treated >= 0.3) the same two.
    assert out["model"][0] == pytest.approx((0.3 + 0.2) / 3 / 0.7)
    assert out["treat_all"][0] == pytest.approx((0.3 + 0.2 - 0.1) / 3 / 0.7)
    assert out["gain_model"][0] == pytest.approx(0.5 / 3)
    assert out["gain_treat_all"][0] == pytest.approx(0.6 / 3)
    assert out["treated_model"][0] == pytest.approx(2 / 3)


def test_counterfactual_net_benefit_rejects_mismatched_or_invalid_risks():
    with pytest.raises(DataError):
        m.counterfactual_net_benefit([0.2, 0.4], [0.3, 0.5], [0.1], [0.3])
    with pytest.raises(DataError):
        m.counterfactual_net_benefit([0.2, 0.4], [0.3, 1.5], [0.1, 0.2], [0.3])


def test_oracle_beats_every_policy_and_treat_none_is_zero():
    rng = np.random.default_rng(4)
    n, t = 2000, np.linspace(0.02, 0.95, 40)
    p_treated, p_control = rng.uniform(size=n), rng.uniform(size=n) * 0.5
    noisy = expit(logit(p_treated) + rng.normal(scale=1.5, size=n))
    out = m.counterfactual_net_benefit(noisy, p_treated, p_control, t)
    np.testing.assert_array_equal(out["treat_none"], 0.0)
    for policy in ("model", "treat_all", "treat_none"):
        assert (out["oracle"] >= out[policy] - 1e-15).all()
    perfect = m.counterfactual_net_benefit(p_treated, p_treated, p_control, t)
    np.testing.assert_allclose(perfect["model"], perfect["oracle"])
    assert (out["oracle"] > out["model"]).any()


def test_weighted_net_benefit_equals_repeating_rows():
    w = np.array([2.0, 1.0, 0.0, 1.0, 3.0, 1.0])
    t = [0.25, 0.55]
    repeated = m.net_benefit(np.repeat(Y6, w.astype(int)), np.repeat(P6, w.astype(int)), t)
    np.testing.assert_allclose(m.net_benefit(Y6, P6, t, w), repeated)
    np.testing.assert_allclose(
        m.net_benefit(Y6, P6, t, np.vstack([w, np.ones(6)]))[1], m.net_benefit(Y6, P6, t)
    )
