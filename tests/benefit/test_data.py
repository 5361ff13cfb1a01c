"""The benefit table holds the randomized contrasts only, with the truth of each patient."""

from __future__ import annotations

import numpy as np
import pytest

from ketapredict.benefit.data import benefit_table
from ketapredict.cohort.generate import generate_cohort
from ketapredict.contract import ID

SIZES = {"zarate2006": 300, "murrough2013": 300, "sustain1": 200, "realworld": 200}


@pytest.fixture(scope="module")
def cohort(specs):
    return generate_cohort(
        specs.trials, SIZES, specs.population, specs.model, seed=3, horizon_days=28
    )


@pytest.fixture(scope="module")
def table(cohort, specs):
    c = cohort
    return benefit_table(
        c.patients, c.visits, c.outcomes, c.truth, threshold=0.5, model=specs.model
    )


def test_only_designs_with_a_concurrent_comparator_enter(table) -> None:
    assert set(table.frame["trial"]) == {"zarate2006", "murrough2013"}
    assert table.counts["patients"] == 600


def test_a_crossover_patient_has_one_row_per_arm_and_its_period_recorded(table) -> None:
    f = table.frame[table.frame["trial"] == "zarate2006"]
    per_patient = f.groupby(ID)["treated"].agg(["size", "sum"])
    both = per_patient[per_patient["size"] == 2]
    assert len(both) > 250 and (both["sum"] == 1).all()  # a few lose a row to dropout
    second = f[f["period"] == 2]
    assert (second["period2"] == 1).all()
    # the second period follows an active one exactly when it is the comparator's
    assert (second["after_active"] == 1 - second["treated"]).all()
    assert (f.loc[f["period"] == 1, "after_active"] == 0).all()
    assert set(f["comparator"]) == {"saline"}


def test_a_parallel_patient_has_one_row(table) -> None:
    f = table.frame[table.frame["trial"] == "murrough2013"]
    assert f[ID].is_unique and set(f["comparator"]) == {"midazolam"}
    assert (f["period2"] == 0).all() and (f["after_active"] == 0).all()
    assert 0.55 < f["treated"].mean() < 0.75  # randomized 2:1


def test_the_truth_is_the_truth_tables_at_the_default_threshold(table, cohort) -> None:
    f = table.frame.merge(
        cohort.truth[[ID, "p_response_active_24h", "p_response_control_24h"]], on=ID
    )
    np.testing.assert_allclose(f["p_true_treated"], f["p_response_active_24h"], atol=1e-12)
    np.testing.assert_allclose(f["p_true_control"], f["p_response_control_24h"], atol=1e-12)
    np.testing.assert_allclose(f["benefit_true"], f["p_true_treated"] - f["p_true_control"])
    # one patient, one truth, whichever row
    assert (f.groupby(ID)["benefit_true"].nunique() == 1).all()


def test_the_label_is_the_recorded_response_at_24h(table, cohort) -> None:
    f = table.frame.merge(cohort.outcomes[[ID, "period", "response_24h"]], on=[ID, "period"])
    assert (f["y"] == f["response_24h"]).all()
    treated, control = (f.loc[f["treated"] == t, "y"].mean() for t in (1, 0))
    assert treated > control + 0.1


def test_the_observed_contrast_is_unbiased_for_the_benefit(table) -> None:
    """Its mean over patients is close to the mean true benefit, design by design."""
    from ketapredict.benefit.patients import per_patient

    people = per_patient(table.frame)
    assert people[ID].is_unique and (people["period2"] == 0).all()
    for trial, rows in people.groupby("trial"):
        se = rows["contrast"].std() / np.sqrt(len(rows))
        assert abs(rows["contrast"].mean() - rows["benefit_true"].mean()) < 3.5 * se, trial


def test_bands_are_thirds_of_the_estimates_with_the_contrast_observed_in_each() -> None:
    from ketapredict.benefit.patients import bands

    rng = np.random.default_rng(1)
    estimate = rng.permutation(300).astype(float)
    contrast = np.where(estimate >= 200, 1.0, 0.0) + rng.normal(0, 0.5, 300)
    found = bands(estimate, contrast)
    assert [b["name"] for b in found] == ["low", "intermediate", "high"]
    assert [b["patients"] for b in found] == [100, 100, 100]
    assert found[-1]["upper"] is None and found[0]["upper"] < found[1]["upper"]
    which = np.digitize(estimate, [found[0]["upper"], found[1]["upper"]])
    for i, band in enumerate(found):
        inside = contrast[which == i]
        assert band["observed"] == pytest.approx(inside.mean())
        half = 1.959964 * inside.std(ddof=1) / np.sqrt(len(inside))
        assert band["observed_high"] - band["observed"] == pytest.approx(half)
    assert found[2]["observed_low"] > found[1]["observed_high"]  # the planted step shows
