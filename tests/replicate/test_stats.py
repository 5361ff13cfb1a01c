"""Trial statistics: hand-worked answers, lifelines/least-squares references, planted truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from scipy.optimize import minimize_scalar

from ketapredict.replicate.stats import (
    ancova_difference,
    cox_hazard_ratio,
    interval,
    km_median,
    km_survival,
    mean,
    odds_ratio,
    paired_difference,
    proportion,
    sd,
)

NAN = np.nan

# Worked by hand. At risk / deaths: t=2 8/1 -> 7/8; t=3 7/1 (the censoring at 3 is still at
# risk) -> 6/8; t=5 5/1 -> 0.6; t=8 3/1 -> 0.4; t=9 2/1 -> 0.2. Median: first S <= 0.5 is t=8.
KM_TIME = np.array([2, 3, 3, 5, 6, 8, 9, 12, NAN, 4], dtype=float)
KM_EVENT = np.array([1, 1, 0, 1, 0, 1, 1, 0, 1, NAN], dtype=float)


def survival_data(seed: int, n: int, hr: float = 0.6) -> tuple[np.ndarray, ...]:
    """Integer-rounded exponential times (many ties) with random censoring, two groups."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n).astype(float)
    event_time = np.ceil(rng.exponential(10.0 / hr**group))
    censor_time = np.ceil(rng.exponential(20.0, n))
    return np.minimum(event_time, censor_time), (event_time <= censor_time).astype(float), group


def test_proportion_mean_sd_ignore_nan() -> None:
    assert proportion([1, 0, 1, NAN]) == pytest.approx(2 / 3)
    assert math.isnan(proportion([NAN, NAN]))
    assert mean([1, 2, 6, NAN]) == pytest.approx(3.0)
    assert sd([1, 2, 3, NAN]) == pytest.approx(1.0)
    assert sd([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(np.std([2, 4, 4, 4, 5, 5, 7, 9], ddof=1))
    assert math.isnan(mean([NAN]))
    assert math.isnan(mean([]))
    assert math.isnan(sd([5.0, NAN]))


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="0, 1"):
        proportion([0, 2])
    with pytest.raises(ValueError, match="group"):
        cox_hazard_ratio([1, 2], [1, 1], [1, 2])
    with pytest.raises(ValueError, match="equal length"):
        odds_ratio([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="ties"):
        cox_hazard_ratio([1, 2], [1, 1], [0, 1], ties="exact")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="level"):
        interval([1.0, 2.0], level=95)


@pytest.mark.parametrize(
    ("at", "expected"),
    [(0, 1.0), (1.999, 1.0), (2, 0.875), (4, 0.75), (5, 0.6), (7.5, 0.6), (8, 0.4), (100, 0.2)],
)
def test_km_survival_hand_example(at: float, expected: float) -> None:
    assert km_survival(KM_TIME, KM_EVENT, at) == pytest.approx(expected, abs=1e-12)


def test_km_median_hand_examples() -> None:
    assert km_median(KM_TIME, KM_EVENT) == 8.0
    assert math.isnan(km_median([1, 2, 3, 4, 5], [1, 0, 0, 0, 0]))  # S stays at 0.8
    assert math.isnan(km_median([NAN], [1]))
    assert math.isnan(km_survival([NAN], [1], 3.0))
    assert math.isnan(km_survival([1, 2], [1, 1], NAN))
    # S(3) = 3/6 exactly. lifelines' exp(sum(log)) rounds it above 0.5 and answers 4.0.
    assert km_median([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1]) == 3.0
    # Here S(12) = 12/24, but the running product lands one ulp above 0.5.
    assert km_median(np.arange(1.0, 25.0), np.ones(24)) == 12.0


@pytest.mark.parametrize(("seed", "n"), [(0, 50), (1, 137), (2, 500), (3, 1000), (4, 2000)])
def test_km_matches_lifelines(seed: int, n: int) -> None:
    time, event, _ = survival_data(seed, n)
    kmf = KaplanMeierFitter().fit(time, event)
    times = [0.0, 1.0, 2.5, 5.0, 10.0, 17.0, float(time.max()) + 1]
    expected = kmf.survival_function_at_times(times).to_numpy()
    got = [km_survival(time, event, t) for t in times]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    reference = kmf.median_survival_time_
    assert km_median(time, event) == (NAN if np.isinf(reference) else reference)


def test_km_median_not_reached_where_lifelines_says_inf() -> None:
    time, event, _ = survival_data(5, 300)
    event[time > 3] = 0.0
    assert np.isinf(KaplanMeierFitter().fit(time, event).median_survival_time_)
    assert math.isnan(km_median(time, event))


@pytest.mark.parametrize(("seed", "n"), [(10, 50), (11, 120), (12, 500), (13, 1000), (14, 2000)])
def test_cox_efron_matches_lifelines(seed: int, n: int) -> None:
    time, event, group = survival_data(seed, n)
    frame = pd.DataFrame({"time": time, "event": event, "group": group})
    beta = CoxPHFitter().fit(frame, "time", "event").params_["group"]
    assert np.log(cox_hazard_ratio(time, event, group)) == pytest.approx(beta, abs=1e-4)


def naive_log_partial_likelihood(beta, time, event, group, ties):
    """One event time at a time, straight from the textbook formulas."""
    total = 0.0
    for t in np.unique(time[event == 1]):
        dead = (time == t) & (event == 1)
        d = dead.sum()
        risk = np.exp(beta * group[time >= t]).sum()
        tied = np.exp(beta * group[dead]).sum()
        total += beta * group[dead].sum()
        if ties == "breslow":
            total -= d * np.log(risk)
        else:
            total -= sum(np.log(risk - k / d * tied) for k in range(d))
    return total


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("seed", [20, 21, 22])
def test_cox_maximises_the_textbook_partial_likelihood(ties: str, seed: int) -> None:
    time, event, group = survival_data(seed, 80)
    time = np.ceil(time / 3)  # heavier ties, so Breslow and Efron differ
    best = minimize_scalar(
        lambda b: -naive_log_partial_likelihood(b, time, event, group, ties),
        bounds=(-5, 5),
        method="bounded",
        options={"xatol": 1e-10},
    )
    got = np.log(cox_hazard_ratio(time, event, group, ties=ties))
    assert got == pytest.approx(best.x, abs=1e-6)


def test_breslow_and_efron_agree_without_ties_and_differ_with_them() -> None:
    rng = np.random.default_rng(30)
    group = rng.integers(0, 2, 200).astype(float)
    time = rng.exponential(1.0, 200) / np.where(group == 1, 0.5, 1.0)
    event = (rng.random(200) < 0.8).astype(float)
    efron = cox_hazard_ratio(time, event, group)
    assert cox_hazard_ratio(time, event, group, ties="breslow") == pytest.approx(efron, rel=1e-9)
    tied = np.ceil(time * 2)
    assert abs(cox_hazard_ratio(tied, event, group, ties="breslow") - 1) < abs(
        cox_hazard_ratio(tied, event, group) - 1
    )


def test_cox_drops_nan_rows() -> None:
    time, event, group = survival_data(40, 200)
    full = cox_hazard_ratio(time, event, group)
    assert cox_hazard_ratio(
        np.append(time, [NAN, 1.0, 1.0]),
        np.append(event, [1, NAN, 1]),
        np.append(group, [1, 1, NAN]),
    ) == pytest.approx(full, rel=1e-12)


@pytest.mark.parametrize(
    ("time", "event", "group"),
    [
        ([1, 2, 3, 4], [1, 1, 1, 1], [0, 0, 0, 0]),  # group 1 empty
        ([1, 2, 3, 4], [0, 0, 1, 1], [1, 1, 0, 0]),  # group 1 has no events
        ([1, 2, 3, 4], [1, 1, 0, 0], [1, 1, 0, 0]),  # group 0 has no events
        ([1, 2, 3, 4], [1, 1, 1, 1], [1, 1, 0, 0]),  # only group 0 left at risk: beta -> +inf
        ([1, 2, 3, 4], [1, 0, 1, 1], [1, 1, 0, 0]),  # events in both, still no finite MLE
    ],
)
def test_cox_nan_when_not_estimable(time, event, group) -> None:
    assert math.isnan(cox_hazard_ratio(time, event, group))


def test_cox_finite_on_a_tiny_estimable_sample() -> None:
    # Group 1 fails at 1 and 4, group 0 at 2 and 3: the score changes sign, so a finite MLE.
    hr = cox_hazard_ratio([1, 4, 2, 3], [1, 1, 1, 1], [1, 1, 0, 0])
    frame = pd.DataFrame({"t": [1, 4, 2, 3], "e": [1, 1, 1, 1], "g": [1, 1, 0, 0]})
    beta = CoxPHFitter().fit(frame, "t", "e").params_["g"]
    assert np.log(hr) == pytest.approx(beta, abs=1e-4)


def test_cox_step_halving_rescues_a_lopsided_sample() -> None:
    # Plain Newton from beta = 0 overshoots and diverges here; the MLE is finite (~2.636).
    # (lifelines stops early on this one, at 2.6359, so the reference is the textbook maximum.)
    time = np.arange(1.0, 13.0)
    event = np.array([0] + [1] * 11, dtype=float)
    group = np.array([1, 1, 0, 1] + [0] * 8, dtype=float)
    best = minimize_scalar(
        lambda b: -naive_log_partial_likelihood(b, time, event, group, "efron"),
        bounds=(-10, 10),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert np.log(cox_hazard_ratio(time, event, group)) == pytest.approx(best.x, abs=1e-6)


def test_cox_recovers_planted_hazard_ratio() -> None:
    rng = np.random.default_rng(2024)
    n = 20_000
    group = rng.integers(0, 2, n).astype(float)
    event_time = rng.exponential(1.0 / np.where(group == 1, 0.5, 1.0))
    censor_time = rng.exponential(2.0, n)
    time, event = np.minimum(event_time, censor_time), (event_time <= censor_time).astype(float)
    assert cox_hazard_ratio(time, event, group) == pytest.approx(0.5, abs=0.03)


def table(a: int, b: int, c: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """y and group for a 2x2 table: a/b = group 1 with y=1/0, c/d = group 0 with y=1/0."""
    y = np.array([1] * a + [0] * b + [1] * c + [0] * d, dtype=float)
    group = np.array([1] * (a + b) + [0] * (c + d), dtype=float)
    return y, group


def test_odds_ratio_by_hand() -> None:
    assert odds_ratio(*table(3, 2, 1, 4)) == pytest.approx(3 * 4 / (2 * 1))
    assert odds_ratio(*table(2, 0, 1, 3)) == pytest.approx(2.5 * 3.5 / (0.5 * 1.5))
    assert odds_ratio(*table(0, 5, 0, 5)) == pytest.approx(1.0)
    y, group = table(3, 2, 1, 4)
    assert odds_ratio(np.append(y, [NAN, 1]), np.append(group, [1, NAN])) == pytest.approx(6.0)
    assert math.isnan(odds_ratio(*table(3, 2, 0, 0)))
    assert math.isnan(odds_ratio(*table(0, 0, 3, 2)))


@pytest.mark.parametrize("seed", [50, 51, 52])
def test_ancova_difference_matches_least_squares(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    group = rng.integers(0, 2, n).astype(float)
    baseline = rng.normal(30, 5, n) + 2 * group
    y = 10 - 4 * group + 0.6 * baseline + rng.normal(0, 3, n)
    y[rng.random(n) < 0.1] = NAN
    baseline[rng.random(n) < 0.05] = NAN
    keep = ~np.isnan(y) & ~np.isnan(baseline)
    design = np.column_stack([np.ones(keep.sum()), group[keep], baseline[keep]])
    coef = np.linalg.lstsq(design, y[keep], rcond=None)[0]
    assert ancova_difference(y, group, baseline) == pytest.approx(coef[1], rel=1e-10)


def test_ancova_difference_nan_when_not_estimable() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert math.isnan(ancova_difference(y, [1, 1, 1, 1], [5, 6, 7, 8]))
    assert math.isnan(ancova_difference(y, [0, 0, 1, 1], [2, 2, 5, 5]))  # collinear
    group = np.array([0, 0, 1, 1, 0, 1], dtype=float)
    # Collinear too, but rounding leaves a ~1e-18 determinant instead of an exact zero.
    assert math.isnan(ancova_difference(np.arange(6.0), group, 0.1 * group + 0.7))
    assert math.isnan(ancova_difference([1.0, 2.0, NAN], [0, 1, 1], [1, 2, 3]))
    assert ancova_difference([0.0, 1.0, 5.0], [0, 0, 1], [0, 1, 2]) == pytest.approx(3.0)


def test_paired_difference_uses_complete_pairs() -> None:
    assert paired_difference([1, 2, NAN, 4], [0, NAN, 1, 1]) == pytest.approx(2.0)
    assert math.isnan(paired_difference([1, NAN], [NAN, 2]))


def test_interval_percentiles() -> None:
    values = np.append(np.arange(101, dtype=float), [NAN, NAN])
    assert interval(values) == pytest.approx((50.0, 2.5, 97.5))
    assert interval(values, level=0.9) == pytest.approx((50.0, 5.0, 95.0))
    assert all(math.isnan(v) for v in interval([NAN, NAN]))
