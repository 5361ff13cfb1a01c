"""The truth: log-odds and probabilities as the model defines them, and the effects table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from ketapredict.cohort.effects import TermBasis
from ketapredict.cohort.generate import generate_trial
from ketapredict.cohort.outcomes import relapse_times, scores_from_ystar
from ketapredict.cohort.scales import SCALES
from ketapredict.cohort.specs import Arm, load_specs
from ketapredict.cohort.truth import (
    Patients,
    TrialEffects,
    draw_trial_effects,
    reference_arms,
    relapse_probability,
    response_logodds,
    response_probability,
)
from ketapredict.cohort.truth_summary import summarize
from ketapredict.layout import Layout
from tests.conftest import simple_trial

KETAMINE = Arm(name="ketamine", drug="ketamine", route="iv", dose=0.5)
SALINE = Arm(name="saline", drug="saline", route="iv", dose=0.0)


def _patients(model, frame: pd.DataFrame, shift=(0.0, 0.0)) -> Patients:
    n = len(frame)
    effects = TrialEffects(np.full(n, shift[0]), np.full(n, shift[1]))
    return Patients.of(model, frame, effects)


def test_logodds_split_into_non_specific_and_drug_parts(specs, population_sample) -> None:
    m, frame = specs.model, population_sample
    patients = _patients(m, frame, shift=(0.2, -0.3))
    eta = response_logodds(m, KETAMINE, np.array([24.0]), patients)[:, 0]
    prognostic = TermBasis(m.response.prognostic, frame).at(np.array([24.0]))[:, 0]
    predictive = TermBasis(m.response.predictive, frame).at(np.array([24.0]))[:, 0]
    r = m.response
    non_specific = r.expectancy["active_blind"].at(24.0) + r.natural_course.at(24.0)
    expected = non_specific + prognostic + 0.2 + (r.drug_effect - 0.3 + predictive)
    np.testing.assert_allclose(eta, expected, atol=1e-9)
    control = response_logodds(m, SALINE, np.array([24.0]), patients)[:, 0]
    inert = r.expectancy["inert"].at(24.0) + r.natural_course.at(24.0)
    np.testing.assert_allclose(control, inert + prognostic + 0.2, atol=1e-9)
    assert np.std(control) > 0, "prognostic terms make the comparator's response vary"


def test_a_new_antidepressant_raises_the_comparator_over_weeks(specs, population_sample) -> None:
    m = specs.model
    patients = _patients(m, population_sample)
    hours = np.array([24.0, 168.0, 672.0])
    none = response_logodds(m, SALINE.model_copy(update={"background": "none"}), hours, patients)
    new = response_logodds(m, SALINE.model_copy(update={"background": "new"}), hours, patients)
    gain = (new - none).mean(axis=0)
    assert gain[0] == pytest.approx(0.0) and gain[1] > 0.5 and gain[2] > gain[1]


def test_weight_based_terms_act_only_under_weight_based_dosing(specs, population_sample) -> None:
    m, frame = specs.model, population_sample
    per_kg = [t for t in m.response.predictive if t.dosing == "per_kg"]
    assert [t.covariate for t in per_kg] == ["bmi"]
    basis = TermBasis(m.response.predictive, frame)
    gap = basis.at(np.array([24.0])) - basis.at(np.array([24.0]), per_kg=False)
    expected = per_kg[0].coef * per_kg[0].basis(frame)
    np.testing.assert_allclose(gap[:, 0], expected, atol=1e-12)


def test_prior_suicide_attempt_acts_at_day_7_not_at_24h(specs) -> None:
    (term,) = [t for t in specs.model.response.predictive if t.covariate == "prior_suicide_attempt"]
    np.testing.assert_allclose(term.profile(np.array([2.0, 24.0, 168.0, 400.0])), [0, 0, 1, 1])


def test_response_probability_matches_the_simulated_score_map(specs) -> None:
    rng = np.random.default_rng(1)
    n, baseline = 200_000, np.full(200_000, 31.0)
    eta = rng.normal(0, 1.2, n)
    ystar = (eta + rng.logistic(size=n))[:, None]
    for noise_sd, spread in ((0.0, 1.0), (3.0, 1.0), (3.0, 0.6)):
        error = noise_sd * rng.standard_normal((n, 1))
        scores = scores_from_ystar(ystar, baseline, SCALES["madrs"], specs.model, error, spread)[
            :, 0
        ]
        improvement = (baseline - scores) / baseline
        for threshold in (0.3, 0.5, 0.7):
            p = response_probability(eta, baseline, threshold, specs.model, noise_sd, spread)
            observed = (improvement >= threshold - 1e-9).mean()
            assert p.mean() == pytest.approx(observed, abs=0.01), (noise_sd, spread, threshold)
    assert (response_probability(eta, baseline, 0.5, specs.model) == special.expit(eta)).all()
    noisy = response_probability(eta, baseline, 0.5, specs.model, 3.0)
    assert np.std(noisy) < np.std(special.expit(eta)), "rater error blurs who responds"


def test_each_trial_draws_its_own_effects(specs) -> None:
    blocks = np.repeat(np.arange(50), 4)
    effects = draw_trial_effects(specs.model, blocks, np.random.default_rng(3))
    per_trial = pd.Series(effects.drug).groupby(blocks)
    assert (per_trial.nunique() == 1).all(), "patients of a trial share its draw"
    h = specs.model.response.heterogeneity
    assert per_trial.first().std() == pytest.approx(h.drug_sd, rel=0.35)
    typical = draw_trial_effects(specs.model, blocks, np.random.default_rng(3), typical=True)
    assert not typical.drug.any() and not typical.expectancy.any()


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
    assert (t["logodds_control_24h"] == t["logodds_saline_24h"]).all(), "the design's comparator"
    assert (t["logodds_midazolam_24h"] > t["logodds_saline_24h"]).all(), "midazolam's expectancy"
    np.testing.assert_allclose(
        t["benefit_logodds_24h"], t["logodds_active_24h"] - t["logodds_control_24h"]
    )
    np.testing.assert_allclose(
        t["benefit_risk_24h"], t["p_response_active_24h"] - t["p_response_control_24h"]
    )
    for when in ("active_24h", "control_24h", "active_end"):
        p, eta = t[f"p_response_{when}"], t[f"logodds_{when}"]
        # monotone in the log-odds up to the rater error's scale (error / baseline)
        assert ((p > 0) & (p < 1)).all() and p.corr(eta, method="spearman") > 0.99
    assert set(t["control_arm"].astype(str)) == {"saline"}
    assert t["trial_shift_drug"].nunique() == 1, "one trial, one draw"
    lp = t["relapse_lp"].to_numpy()
    np.testing.assert_array_equal(
        t["p_relapse_horizon"], relapse_probability(specs.model, lp, 28.0)
    )
    responders = c.outcomes.loc[c.outcomes["relapse_event"].notna(), "patient_id"]
    assert t.set_index("patient_id").loc[responders, "relapse_lp"].notna().all()


def test_without_heterogeneity_every_patient_of_a_trial_gains_the_same(root, specs) -> None:
    flat = load_specs(Layout(root), "no_heterogeneity")
    assert flat.model.response.predictive == []
    spec = specs.trials["murrough2013"]
    c = generate_trial(spec, flat.population, flat.model, 3000, np.random.default_rng(5))
    assert c.truth["benefit_logodds_24h"].std() < 1e-9
    assert c.truth["p_response_control_24h"].std() > 0.01, "prognosis still varies"
    default = generate_trial(spec, specs.population, specs.model, 3000, np.random.default_rng(5))
    t = default.truth
    assert t["benefit_logodds_24h"].std() > 0.2
    rho = t["benefit_logodds_24h"].corr(t["p_response_active_24h"], method="spearman")
    assert rho < 0.9, "benefit and response on ketamine rank patients differently"


def test_the_truth_summary_reports_what_separates_benefit_from_response(specs) -> None:
    spec = specs.trials["murrough2013"]
    c = generate_trial(spec, specs.population, specs.model, 3000, np.random.default_rng(6))
    summary = summarize(c)
    design = summary["designs"]["murrough2013"]
    assert design["patients"] == 3000
    assert design["p_response_control_24h_sd"] > 0.01
    assert design["spearman_benefit_vs_p_active"] < 0.9
    assert 0.55 < design["oracle_auroc_24h"] < 0.85
    assert summary["pooled"]["patients"] == 3000
