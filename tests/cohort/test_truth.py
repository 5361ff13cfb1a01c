"""The truth: log-odds and probabilities as the model defines them, and the effects table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from ketapredict.cohort.generate import generate_trial
from ketapredict.cohort.outcomes import relapse_times, scores_from_ystar
from ketapredict.cohort.scales import SCALES
from ketapredict.cohort.specs import Arm
from ketapredict.cohort.truth import (
    effects_table,
    reference_arms,
    relapse_probability,
    response_logodds,
    response_probability,
)
from tests.conftest import simple_trial

KETAMINE = Arm(name="ketamine", drug="ketamine", route="iv", dose=0.5)
SALINE = Arm(name="saline", drug="saline", route="iv", dose=0.0)


def test_logodds_at_24h_of_one_reference_session_are_expectancy_plus_drug_effect(specs) -> None:
    m = specs.model
    modifier = np.array([-0.5, 0.0, 0.7])
    eta = response_logodds(m, KETAMINE, np.array([24.0]), modifier)[:, 0]
    blind = m.response.expectancy["active_blind"].at(24.0)
    np.testing.assert_allclose(eta, blind + m.response.drug_effect + modifier, atol=1e-9)
    control = response_logodds(m, SALINE, np.array([2.0, 24.0]), modifier)
    inert = m.response.expectancy["inert"]
    np.testing.assert_array_equal(control, np.tile(inert.at(np.array([2.0, 24.0])), (3, 1)))


def test_response_probability_matches_the_simulated_score_map(specs) -> None:
    rng = np.random.default_rng(1)
    n, baseline = 200_000, np.full(200_000, 31.0)
    eta = rng.normal(0, 1.2, n)
    ystar = (eta + rng.logistic(size=n))[:, None]
    scores = scores_from_ystar(ystar, baseline, SCALES["madrs"], specs.model)[:, 0]
    improvement = (baseline - scores) / baseline
    for threshold in (0.3, 0.5, 0.7):
        p = response_probability(eta, baseline, threshold, specs.model)
        observed = (improvement >= threshold - 1e-9).mean()
        assert p.mean() == pytest.approx(observed, abs=0.01), threshold
    assert (response_probability(eta, baseline, 0.5, specs.model) == special.expit(eta)).all()


def test_relapse_probability_is_the_weibull_risk(specs) -> None:
    m = specs.model
    assert relapse_probability(m, np.zeros(1), m.relapse.median_days)[0] == pytest.approx(0.5)
    lp = np.full(100_000, 0.4)
    t = relapse_times(lp, m, np.random.default_rng(2))
    assert relapse_probability(m, lp, 28.0)[0] == pytest.approx((t <= 28.0).mean(), abs=0.005)


def test_reference_arms_by_design(specs) -> None:
    assert reference_arms(specs.trials["murrough2013"], specs.model) == ("ketamine", "midazolam")
    assert reference_arms(specs.trials["sustain1"], specs.model) == ("induction", None)
    assert reference_arms(simple_trial(), specs.model) == ("ketamine", None)
    placebo_only = simple_trial(arms=[{"name": "s", "drug": "saline", "route": "iv", "dose": 0}])
    with pytest.raises(ValueError, match="no active"):
        reference_arms(placebo_only, specs.model)


def test_truth_table_is_consistent_and_counterfactual(specs) -> None:
    spec = specs.trials["zarate2006"]  # crossover: ketamine and saline
    c = generate_trial(spec, specs.population, specs.model, 400, np.random.default_rng(4))
    t = c.truth
    assert len(t) == 400 and t["patient_id"].is_unique
    for when in ("active_24h", "control_24h", "active_end"):
        np.testing.assert_array_equal(t[f"p_response_{when}"], special.expit(t[f"logodds_{when}"]))
    inert = specs.model.response.expectancy["inert"].at(24.0)
    assert (t["logodds_control_24h"] == inert).all(), "saline has no drug effect"
    assert set(t["control_arm"].astype(str)) == {"saline"}
    lp = t["relapse_lp"].to_numpy()
    np.testing.assert_array_equal(
        t["p_relapse_horizon"], relapse_probability(specs.model, lp, 28.0)
    )
    responders = c.outcomes.loc[c.outcomes["relapse_event"].notna(), "patient_id"]
    assert t.set_index("patient_id").loc[responders, "relapse_lp"].notna().all()


def test_effects_table_rows_match_the_model_terms(specs) -> None:
    m = specs.model
    table = effects_table(m)
    for outcome, terms in (("response", m.response.terms), ("relapse", m.relapse.terms)):
        by_term = table["kind"].isin(["characteristic", "interaction"])
        rows = table[(table["outcome"] == outcome) & by_term]
        assert rows["term"].tolist() == [t.label for t in terms]
        assert rows["size"].tolist() == [t.coef for t in terms]
        kinds = ["interaction" if len(t.covariates) > 1 else "characteristic" for t in terms]
        assert rows["kind"].tolist() == kinds
    drug = table.set_index("characteristic").loc["drug_effect"]
    assert drug["size"] == m.response.drug_effect and drug["outcome"] == "response"
    for name, rates in m.adverse.events.items():
        row = table[table["outcome"] == f"ae_{name}"]
        assert row["size"].tolist() == [rates.active]
    assert isinstance(table, pd.DataFrame) and table["scale"].notna().all()
