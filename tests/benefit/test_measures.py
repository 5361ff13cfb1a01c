"""Benefit measures on constructed cases with known answers, and against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from ketapredict.benefit import measures as bm
from ketapredict.errors import DataError

TRUTH = np.array([-0.2, -0.05, 0.0, 0.1, 0.15, 0.3, 0.45])


def brute_c(score: np.ndarray, target: np.ndarray) -> float:
    """Harrell's C by visiting every pair: ties in target skipped, ties in score 1/2."""
    wins = usable = 0.0
    for i, j in itertools.combinations(range(len(score)), 2):
        if target[i] == target[j]:
            continue
        usable += 1
        agree = np.sign(score[i] - score[j]) * np.sign(target[i] - target[j])
        wins += 1.0 if agree > 0 else 0.5 if agree == 0 else 0.0
    return wins / usable


def test_a_perfect_estimate_scores_perfectly():
    assert bm.pehe(TRUTH, TRUTH) == 0
    assert bm.calibration_for_benefit(TRUTH, TRUTH) == (pytest.approx(0), pytest.approx(1))
    assert bm.benefit_spearman(TRUTH, TRUTH) == pytest.approx(1)
    assert bm.c_for_benefit_true(TRUTH, TRUTH) == 1


def test_a_reversed_estimate_ranks_every_pair_wrongly():
    assert bm.c_for_benefit_true(-TRUTH, TRUTH) == 0
    assert bm.benefit_spearman(-TRUTH, TRUTH) == pytest.approx(-1)


def test_pehe_and_calibration_of_distorted_estimates():
    assert bm.pehe(TRUTH + 0.1, TRUTH) == pytest.approx(0.1)
    assert bm.pehe([0.0, 0.0], [0.3, -0.4]) == pytest.approx(math.sqrt(0.125))
    assert bm.calibration_for_benefit(2 * TRUTH, TRUTH) == (pytest.approx(0), pytest.approx(0.5))
    intercept, slope = bm.calibration_for_benefit(TRUTH + 0.1, TRUTH)
    assert (intercept, slope) == (pytest.approx(-0.1), pytest.approx(1))


def test_a_constant_estimate_is_uninformative():
    flat = np.full(TRUTH.size, 0.1)
    assert bm.c_for_benefit_true(flat, TRUTH) == 0.5
    assert all(math.isnan(v) for v in bm.calibration_for_benefit(flat, TRUTH))
    assert math.isnan(bm.benefit_spearman(flat, TRUTH))
    assert math.isnan(bm.c_for_benefit_true(TRUTH, np.zeros(TRUTH.size)))


def test_c_for_benefit_true_matches_brute_force_with_ties():
    rng = np.random.default_rng(0)
    truth = rng.integers(-4, 5, 200) / 20  # many ties in both
    estimate = np.round(truth + rng.normal(0, 0.15, 200), 1)
    assert bm.c_for_benefit_true(estimate, truth) == pytest.approx(brute_c(estimate, truth))
    continuous = rng.normal(size=200)
    assert bm.c_for_benefit_true(continuous, truth) == pytest.approx(brute_c(continuous, truth))


def _pairs(seed: int, m: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """m pairs, known by construction: pair k's treated and control estimates are the k-th
    smallest of their arms. Returns the arm's rows (treated first) and the pairs' y_t, y_c."""
    rng = np.random.default_rng(seed)
    base = np.sort(rng.choice(100, m, replace=False)) / 100
    y_t, y_c = rng.integers(0, 2, m), rng.integers(0, 2, m)
    shuffle = rng.permutation(2 * m)  # row order must not matter
    estimate = np.r_[base + 0.002, base - 0.003][shuffle]
    treated = np.r_[np.ones(m), np.zeros(m)][shuffle]
    return estimate, treated, np.r_[y_t, y_c][shuffle], np.c_[base - 0.0005, y_t - y_c]


def test_c_for_benefit_observed_matches_brute_force_on_known_pairs():
    estimate, treated, y, pairs = _pairs(seed=1)
    c = bm.c_for_benefit_observed(estimate, treated, y, rng=np.random.default_rng(0))
    assert c == pytest.approx(brute_c(pairs[:, 0], pairs[:, 1]))


def test_c_for_benefit_observed_by_hand():
    # Pairs by rank: (0.1, 0.0) observed 1 − 0, (0.3, 0.2) 0 − 0, (0.5, 0.4) 1 − 1, (0.7, 0.6)
    # 0 − 1; predicted 0.05, 0.25, 0.45, 0.65, observed 1, 0, 0, −1. Of the five pairs of pairs
    # untied in observed benefit, all five put the lower predicted on the higher observed: C = 0.
    estimate = [0.1, 0.3, 0.5, 0.7, 0.0, 0.2, 0.4, 0.6]
    treated = [1, 1, 1, 1, 0, 0, 0, 0]
    y = [1, 0, 1, 0, 0, 0, 1, 1]
    assert bm.c_for_benefit_observed(estimate, treated, y, rng=np.random.default_rng(0)) == 0


def test_a_constant_estimate_gives_an_observed_c_of_one_half():
    estimate, treated, y, _ = _pairs(seed=2)
    flat = np.zeros_like(estimate)
    assert bm.c_for_benefit_observed(flat, treated, y, rng=np.random.default_rng(0)) == 0.5


def test_unequal_arms_drop_random_patients_of_the_larger_arm():
    # Four treated (0.1, 0.4, 0.7, 0.9), three control (0.2, 0.5, 0.8): one treated row goes.
    # Dropping 0.1 pairs 0.4/0.2, 0.7/0.5, 0.9/0.8 with observed 1, 1, 0: C = 0. Dropping 0.9
    # pairs 0.1/0.2, 0.4/0.5, 0.7/0.8 with observed 0, 1, 1: C = 1. Dropping 0.4 or 0.7: 0.5.
    estimate = np.array([0.1, 0.4, 0.7, 0.9, 0.2, 0.5, 0.8])
    treated = np.array([1, 1, 1, 1, 0, 0, 0])
    y = np.array([0, 1, 1, 0, 0, 0, 0])
    seen = {
        bm.c_for_benefit_observed(estimate, treated, y, rng=np.random.default_rng(s))
        for s in range(30)
    }
    assert seen == {0, 0.5, 1}
    same_seed = {
        bm.c_for_benefit_observed(estimate, treated, y, rng=np.random.default_rng(4))
        for _ in range(3)
    }
    assert len(same_seed) == 1


def test_crossover_patients_are_paired_with_themselves():
    # Crossover patients 7 and 8 are their own pairs: predicted (0.9 + 0.2) / 2 = 0.55,
    # observed 1 − 0; predicted 0.45, observed 0 − 1. Patients 1 and 2 are matched: 0.45, 1 − 0.
    # Rank matching of all six rows would pair 0.1/0.2, 0.5/0.4, 0.9/0.8 instead: C = 0.5.
    estimate = np.array([0.9, 0.2, 0.1, 0.8, 0.5, 0.4])
    treated = np.array([1, 0, 1, 0, 1, 0])
    y = np.array([1, 0, 0, 1, 1, 0])
    groups = np.array([7, 7, 8, 8, 1, 2])
    rng = np.random.default_rng(0)
    expected = brute_c(np.array([0.55, 0.45, 0.45]), np.array([1, -1, 1]))
    assert expected == 0.75
    assert bm.c_for_benefit_observed(estimate, treated, y, rng=rng, groups=groups) == expected
    assert bm.c_for_benefit_observed(estimate, treated, y, rng=rng) == 0.5


def test_qini_curve_by_hand():
    # Ranked as given. Q(k) = Y_t − Y_c · N_t / N_c over the top k (control term 0 at k = 1):
    # 1, 1, 2, 2 − 1·2/2, 2 − 1·3/2, 2 − 1·3/3, then divided by n = 6.
    estimate = [0.9, 0.8, 0.7, 0.5, 0.3, 0.1]
    treated = [1, 0, 1, 0, 1, 0]
    y = [1, 0, 1, 1, 0, 0]
    fraction, q = bm.qini_curve(estimate, treated, y)
    np.testing.assert_allclose(fraction, np.arange(7) / 6)
    np.testing.assert_allclose(q, np.array([0, 1, 1, 2, 1, 0.5, 1]) / 6)
    # q − fraction · q(1) = [0, 5, 4, 9, 2, −2, 0] / 36; trapezoids of width 1/6: 18/216.
    assert bm.qini_area(estimate, treated, y) == pytest.approx(1 / 12)


def test_tied_estimates_enter_the_qini_curve_together():
    fraction, q = bm.qini_curve([0.4, 0.4, 0.1, 0.1], [1, 0, 1, 0], [1, 0, 0, 1])
    np.testing.assert_allclose(fraction, [0, 0.5, 1])
    np.testing.assert_allclose(q, [0, 0.25, 0])


def test_a_constant_estimate_has_qini_area_zero():
    rng = np.random.default_rng(3)
    treated, y = rng.integers(0, 2, 501), rng.integers(0, 2, 501)
    assert bm.qini_area(np.full(501, 0.1), treated, y) == 0
    assert bm.qini_area(rng.normal(size=501), treated, y) != 0


# Benefit 0.3, 0, −0.1, 0. Oracle treats patient 0: 42.5 per 100; treat-all 40, treat-none 35.
P_TREATED = np.array([0.6, 0.5, 0.3, 0.2])
P_CONTROL = np.array([0.3, 0.5, 0.4, 0.2])


def test_policy_value_and_regret_by_hand():
    oracle, reversed_ = P_TREATED - P_CONTROL, P_CONTROL - P_TREATED
    assert bm.policy_value(oracle, P_TREATED, P_CONTROL) == pytest.approx(42.5)
    assert bm.policy_gain(oracle, P_TREATED, P_CONTROL) == pytest.approx(2.5)
    assert bm.regret(oracle, P_TREATED, P_CONTROL) == 0
    assert bm.share_of_oracle_gain(oracle, P_TREATED, P_CONTROL) == 1
    # The reversed estimate treats patient 2 only: 32.5 per 100.
    assert bm.policy_value(reversed_, P_TREATED, P_CONTROL) == pytest.approx(32.5)
    assert bm.policy_gain(reversed_, P_TREATED, P_CONTROL) == pytest.approx(-7.5)
    assert bm.regret(reversed_, P_TREATED, P_CONTROL) == pytest.approx(10)
    assert bm.share_of_oracle_gain(reversed_, P_TREATED, P_CONTROL) == pytest.approx(-3)


def test_the_threshold_moves_who_is_treated_and_charges_each_treatment():
    # Treat if estimate > 0.2: patient 0 only for the oracle, nobody for an estimate of 0.2.
    assert bm.policy_value(np.full(4, 0.2), P_TREATED, P_CONTROL, 0.2) == pytest.approx(35)
    # the oracle's patient 0 counts 0.6 - 0.2 net: (0.4 + 0.5 + 0.4 + 0.2) / 4
    assert bm.policy_value(P_TREATED - P_CONTROL, P_TREATED, P_CONTROL, 0.2) == pytest.approx(37.5)
    assert bm.regret(np.full(4, 0.2), P_TREATED, P_CONTROL, 0.2) == pytest.approx(2.5)
    # Above every true benefit the oracle treats nobody (35); treating patient 0 anyway costs
    # more than it gains: net of the threshold the oracle is best at every threshold.
    treat_first = np.array([0.4, 0.0, 0.0, 0.0])
    assert bm.regret(treat_first, P_TREATED, P_CONTROL, 0.35) == pytest.approx(1.25)


def test_share_of_oracle_gain_is_nan_when_treating_everyone_is_best():
    # Everyone benefits, so the oracle treats everyone and gains nothing over treat-all.
    p_treated, p_control = np.array([0.6, 0.5, 0.4]), np.array([0.5, 0.25, 0.125])
    assert math.isnan(bm.share_of_oracle_gain(np.ones(3), p_treated, p_control))


def _crossover(n_patients: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = np.repeat(rng.normal(0.1, 0.1, n_patients), 2)
    return {
        "estimate": truth + rng.normal(0, 0.05, truth.size),
        "truth": truth,
        "treated": np.tile([1, 0], n_patients),
        "y": rng.integers(0, 2, truth.size),
    }


def test_bootstrap_brackets_the_estimate_and_repeats_for_a_seed():
    data = _crossover(150, seed=5)
    arrays = {"estimate": data["estimate"], "truth": data["truth"]}
    first = bm.bootstrap(bm.pehe, arrays, rng=np.random.default_rng(1), n_resamples=200)
    again = bm.bootstrap(bm.pehe, arrays, rng=np.random.default_rng(1), n_resamples=200)
    assert first == again
    estimate, low, high = first
    assert estimate == bm.pehe(**arrays)
    assert low < estimate < high


def test_bootstrap_resamples_whole_patients():
    # Patient p has rows 2p and 2p + 1; a resample that split a patient would hold an odd count.
    groups = np.repeat(np.arange(50), 2)
    arrays = {"patient": groups}
    rng = np.random.default_rng(2)

    def whole(patient: np.ndarray) -> float:
        return float((np.bincount(patient) % 2 == 0).all())

    def own_ids(patient: np.ndarray, groups: np.ndarray) -> float:
        # the measure's groups: one id per drawn copy, holding that patient's two rows
        copies = [patient[groups == g] for g in np.unique(groups)]
        return float(all(c.size == 2 and c[0] == c[1] for c in copies))

    assert bm.bootstrap(whole, arrays, rng=rng, n_resamples=100, groups=groups) == (1, 1, 1)
    assert bm.bootstrap(own_ids, arrays, rng=rng, n_resamples=100, groups=groups) == (1, 1, 1)
    # without groups, rows are drawn singly and patients are split
    assert bm.bootstrap(whole, arrays, rng=rng, n_resamples=100)[1:] == (0, 0)


def test_bootstrap_of_the_observed_c_on_crossover_data():
    data = _crossover(100, seed=6)
    arrays = {k: data[k] for k in ("estimate", "treated", "y")}
    groups = np.repeat(np.arange(100), 2)
    rng = np.random.default_rng(3)
    estimate, low, high = bm.bootstrap(
        bm.c_for_benefit_observed, arrays, rng=rng, n_resamples=100, groups=groups
    )
    assert estimate == bm.c_for_benefit_observed(**arrays, rng=rng, groups=groups)
    assert 0 <= low < estimate < high <= 1


def test_paired_difference_of_a_measure_with_itself_is_zero():
    rng = np.random.default_rng(7)
    n = 301  # unequal arms: the observed C's random drop must be the same on both sides
    arrays = {
        "estimate": rng.normal(size=n),
        "treated": rng.integers(0, 2, n),
        "y": rng.integers(0, 2, n),
    }
    diff = bm.paired_difference(
        bm.c_for_benefit_observed, arrays, dict(arrays), rng=rng, n_resamples=100
    )
    assert diff == (0, 0, 0)


def test_paired_difference_favours_the_better_estimate():
    data = _crossover(200, seed=8)
    rng = np.random.default_rng(9)
    good = {"estimate": data["estimate"], "truth": data["truth"]}
    noise = rng.normal(0, 0.1, data["truth"].size)
    poor = {"estimate": data["estimate"] + noise, "truth": data["truth"]}
    groups = np.repeat(np.arange(200), 2)
    diff, low, high = bm.paired_difference(
        bm.pehe, good, poor, rng=rng, n_resamples=200, groups=groups
    )
    assert diff == pytest.approx(bm.pehe(**good) - bm.pehe(**poor))
    assert low <= diff <= high < 0


def test_bad_inputs_raise_data_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(DataError):
        bm.pehe([0.1, 0.2], [0.1])
    with pytest.raises(DataError):
        bm.c_for_benefit_true([0.1, np.nan], [0.1, 0.2])
    with pytest.raises(DataError):
        bm.qini_curve([0.1, 0.2], [1, 2], [0, 1])
    with pytest.raises(DataError):
        bm.policy_value([0.1, 0.2], [0.5, 1.5], [0.5, 0.5])
    with pytest.raises(DataError):
        bm.bootstrap(bm.pehe, {"estimate": np.ones(3), "truth": np.ones(4)}, rng=rng)
