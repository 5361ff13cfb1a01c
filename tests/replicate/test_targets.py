"""Published statistics computed on tiny hand-made trials with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketapredict.cohort.frames import Cohort
from ketapredict.cohort.generate import generate_trial
from ketapredict.cohort.specs import Target
from ketapredict.replicate.targets import PooledTarget, compute
from tests.conftest import simple_trial

BASELINE = [30.0, 32.0, 28.0, 30.0, 34.0, 26.0]
SCORE_24 = [10, 15, 20, 25, 12, 30]


def _cohort() -> Cohort:
    """Six parallel-arm patients: 1-3 ketamine, 4-6 midazolam; a baseline and a 24h visit."""
    ids = np.arange(1, 7)
    arm = ["ketamine"] * 3 + ["midazolam"] * 3
    score_24 = SCORE_24
    outcomes = pd.DataFrame(
        {
            "patient_id": ids,
            "period": 1,
            "arm": arm,
            "withdrawal_arm": ["", "", "", "", "", ""],
            "baseline_score": BASELINE,
            "response_end": [1.0, 1.0, 0.0, 0.0, 1.0, np.nan],
            "pct_change_end": [0.6, 0.55, 0.2, 0.3, 0.5, np.nan],
            "remission_end": [1.0, 0.0, 0.0, 0.0, 0.0, np.nan],
            "on_maintenance": [0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
            "relapse_event": [1.0, 0.0, np.nan, np.nan, 1.0, np.nan],
            "relapse_days": [10.0, 20.0, np.nan, np.nan, 5.0, np.nan],
            "ae_dizziness": [1.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            "sbp_rise": [2.0, 4.0, 6.0, 0.0, 0.0, 0.0],
        }
    )
    rows = []
    for pid, s in zip(ids, score_24, strict=True):
        b = BASELINE[pid - 1]
        rows.append((pid, 1, "baseline", b, False, False))
        rows.append((pid, 1, "24h", s, s <= b / 2, s <= 10))
    visits = pd.DataFrame(
        rows, columns=["patient_id", "period", "visit", "score", "response", "remission"]
    )
    patients = pd.DataFrame({"patient_id": ids, "age": [30.0, 40, 50, 60, 70, 80]})
    return Cohort(patients, visits, outcomes, pd.DataFrame({"patient_id": ids}))


def t(**kw) -> Target:
    return Target(label="x", value=0.0, **kw)


def test_response_and_remission_rates() -> None:
    c = _cohort()
    assert compute(
        t(statistic="response_rate", arm="ketamine", visit="24h"), c, enrolled=6
    ) == pytest.approx(2 / 3)
    assert compute(
        t(statistic="remission_rate", arm="ketamine", visit="24h"), c, enrolled=6
    ) == pytest.approx(1 / 3)
    assert compute(
        t(statistic="response_rate", arm="midazolam", visit="end"), c, enrolled=6
    ) == pytest.approx(1 / 2)


def test_a_threshold_counts_improvement_from_the_visit_scores() -> None:
    c = _cohort()
    improvement = 1 - np.divide(SCORE_24, BASELINE)  # 0.67 0.53 0.29 | 0.17 0.65 -0.15
    for threshold in (0.1, 0.25, 0.3, 0.5, 0.6):
        for arm, rows in (("ketamine", slice(0, 3)), ("midazolam", slice(3, 6))):
            rate = t(statistic="response_rate", arm=arm, visit="24h", threshold=threshold)
            expected = np.mean(improvement[rows] >= threshold)
            assert compute(rate, c, enrolled=6) == pytest.approx(expected), (arm, threshold)


def test_a_score_exactly_at_the_threshold_responds() -> None:
    c = _cohort()
    at_24h = (c.visits["patient_id"] == 4) & (c.visits["visit"] == "24h")
    c.visits.loc[at_24h, "score"] = 21  # baseline 30: exactly 30 % better
    rate = t(statistic="response_rate", arm="midazolam", visit="24h", threshold=0.3)
    assert compute(rate, c, enrolled=6) == pytest.approx(2 / 3)


def test_a_lower_threshold_never_lowers_the_rate_and_050_is_the_default() -> None:
    c = _cohort()
    for arm in ("ketamine", "midazolam"):
        for visit in ("24h", "end"):
            rate = {
                thr: compute(
                    t(statistic="response_rate", arm=arm, visit=visit, threshold=thr),
                    c,
                    enrolled=6,
                )
                for thr in (0.3, 0.5)
            }
            assert rate[0.3] >= rate[0.5]
            default = compute(t(statistic="response_rate", arm=arm, visit=visit), c, enrolled=6)
            assert rate[0.5] == pytest.approx(default), (arm, visit)


def test_a_threshold_at_the_end_of_the_course_uses_its_improvement() -> None:
    c = _cohort()  # end of course: ketamine 0.6 0.55 0.2, midazolam 0.3 0.5 (one unknown)
    rate = t(statistic="response_rate", arm="ketamine", visit="end", threshold=0.3)
    assert compute(rate, c, enrolled=6) == pytest.approx(2 / 3)
    rate = t(statistic="response_rate", arm="midazolam", visit="end", threshold=0.25)
    assert compute(rate, c, enrolled=6) == pytest.approx(1.0)
    rate = t(statistic="response_rate", arm="midazolam", visit="end", threshold=0.4)
    assert compute(rate, c, enrolled=6) == pytest.approx(1 / 2)


def test_thresholds_order_the_rates_of_a_generated_trial(specs) -> None:
    arm = {"name": "ketamine", "drug": "ketamine", "route": "iv", "dose": 0.5}
    spec = simple_trial(arms=[{**arm, "sessions": 3, "interval_days": 2}])
    c = generate_trial(spec, specs.population, specs.model, 400, np.random.default_rng(7))
    for visit in ("24h", "end"):
        rate = {
            thr: compute(
                t(statistic="response_rate", arm="ketamine", visit=visit, threshold=thr),
                c,
                enrolled=400,
            )
            for thr in (0.2, 0.3, 0.5, 0.7)
        }
        assert rate[0.2] >= rate[0.3] >= rate[0.5] >= rate[0.7], visit
        assert rate[0.3] > rate[0.5] > 0, visit  # a 30 % cut-off admits partial responders
        default = compute(t(statistic="response_rate", arm="ketamine", visit=visit), c, enrolled=1)
        assert rate[0.5] == pytest.approx(default), visit  # 50 % is the generator's response


def test_an_odds_ratio_with_a_threshold() -> None:
    c = _cohort()  # at 25 %: ketamine 3 of 3, midazolam 1 of 3 -> a zero cell, +0.5 each
    o = t(statistic="odds_ratio", arm="ketamine", versus="midazolam", visit="24h", threshold=0.25)
    assert compute(o, c, enrolled=6) == pytest.approx((3.5 / 0.5) / (1.5 / 2.5))


def test_mean_change_and_difference() -> None:
    c = _cohort()
    change = np.subtract(SCORE_24, BASELINE)
    mean_change = t(statistic="mean_change", arm="ketamine", visit="24h")
    assert compute(mean_change, c, enrolled=6) == pytest.approx(change[:3].mean())
    diff = t(statistic="mean_difference", arm="ketamine", versus="midazolam", visit="24h")
    assert compute(diff, c, enrolled=6) == pytest.approx(change[:3].mean() - change[3:].mean())
    X = np.column_stack([np.ones(6), [1, 1, 1, 0, 0, 0], BASELINE])
    beta = np.linalg.lstsq(X, np.asarray(SCORE_24, float), rcond=None)[0]
    ancova = t(statistic="ancova_difference", arm="ketamine", versus="midazolam", visit="24h")
    assert compute(ancova, c, enrolled=6) == pytest.approx(beta[1])


def test_odds_ratio_with_zero_cell_correction() -> None:
    c = _cohort()  # ketamine 2/3 respond, midazolam 1/3
    o = compute(
        t(statistic="odds_ratio", arm="ketamine", versus="midazolam", visit="24h"), c, enrolled=6
    )
    assert o == pytest.approx((2 / 1) / (1 / 2))


def test_relapse_statistics_and_groups() -> None:
    c = _cohort()
    prop = t(statistic="relapse_proportion", arm="ketamine")
    assert compute(prop, c, enrolled=6) == pytest.approx(0.5)
    median = t(statistic="median_relapse_days", arm="ketamine")
    assert compute(median, c, enrolled=6) == pytest.approx(10.0)  # S(10) = 1/2
    surv = t(statistic="km_survival", arm="ketamine", at_days=15, group="no_maintenance")
    assert compute(surv, c, enrolled=6) == pytest.approx(0.0)
    remitters = t(statistic="relapse_proportion", arm="ketamine", group="remitters")
    assert compute(remitters, c, enrolled=6) == pytest.approx(1.0)


def test_adverse_events_and_covariates() -> None:
    c = _cohort()
    assert compute(
        t(statistic="ae_rate", arm="ketamine", column="dizziness"), c, enrolled=6
    ) == pytest.approx(2 / 3)
    assert compute(
        t(statistic="ae_mean", arm="ketamine", column="sbp_rise"), c, enrolled=6
    ) == pytest.approx(4.0)
    assert compute(
        t(statistic="covariate_mean", column="age", arm="midazolam"), c, enrolled=6
    ) == pytest.approx(70.0)
    assert compute(t(statistic="covariate_sd", column="age"), c, enrolled=6) == pytest.approx(
        np.std([30, 40, 50, 60, 70, 80], ddof=1)
    )


def test_counts_are_per_enrolled_patient() -> None:
    c = _cohort()
    c.outcomes["withdrawal_arm"] = ["continue", "placebo", "", "", "", ""]
    count = t(statistic="count")
    assert compute(count, c, enrolled=6) == pytest.approx(2.0)
    assert compute(count, c, enrolled=600) == pytest.approx(200.0)
    assert compute(t(statistic="count", arm="placebo"), c, enrolled=60) == pytest.approx(10.0)
    c.outcomes["withdrawal_arm"] = ""
    assert compute(t(statistic="count", arm="midazolam"), c, enrolled=6) == pytest.approx(3.0)


def test_bad_targets_are_rejected() -> None:
    with pytest.raises(ValueError, match="needs 'versus'"):
        t(statistic="odds_ratio", arm="ketamine", visit="24h")
    with pytest.raises(ValueError, match="statistic"):
        t(statistic="median_response")
    with pytest.raises(ValueError, match="threshold applies to response_rate and odds_ratio"):
        t(statistic="remission_rate", arm="ketamine", visit="24h", threshold=0.3)
    for bad in (0.0, 1.0, 30):
        with pytest.raises(ValueError, match="threshold"):
            t(statistic="response_rate", arm="ketamine", visit="24h", threshold=bad)
    pooled = PooledTarget.model_validate(
        {
            "label": "L",
            "designs": ["a"],
            "n": 10,
            "target": {"statistic": "response_rate", "value": 0.5},
        }
    )
    assert pooled.target.label == "L"
