"""Generated cohorts obey their design, and the written truth is the truth."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit as sigmoid

from ketapredict.cohort import phases
from ketapredict.cohort.frames import COHORT_TABLES
from ketapredict.cohort.generate import _ahead, generate_parts, generate_trial
from ketapredict.cohort.scales import SCALES
from tests.conftest import simple_trial


@pytest.fixture(scope="module")
def cohorts(specs):
    return {
        name: generate_trial(spec, specs.population, specs.model, 3000, np.random.default_rng(3))
        for name, spec in specs.trials.items()
    }


def test_inclusion_criteria_hold_for_every_patient(specs, cohorts) -> None:
    for name, cohort in cohorts.items():
        inc = specs.trials[name].population.inclusion
        p = cohort.patients
        if inc.age:
            assert p["age"].between(*inc.age).all(), name
        if inc.min_failed_trials is not None:
            assert (p["n_failed_trials"].dropna() >= inc.min_failed_trials).all(), name
        first = cohort.outcomes[cohort.outcomes["period"] == 1]
        if inc.min_baseline is not None:
            assert (first["baseline_score"] >= inc.min_baseline).all(), name
        if inc.medication_free:
            assert (p["antidepressant"].dropna() == 0).all(), name
            assert (p["benzodiazepine_mg"].dropna() == 0).all(), name
        if inc.diagnosis:
            assert p["diagnosis"].isin(inc.diagnosis).all(), name


def test_crossover_patients_have_one_record_per_period(specs, cohorts) -> None:
    for name in ("berman2000", "zarate2006", "feder2014"):
        out = cohorts[name].outcomes
        per_patient = out.groupby("patient_id")["period"].agg(["count", "nunique"])
        assert (per_patient["count"] == 2).all() and (per_patient["nunique"] == 2).all(), name
        arms = out.groupby("patient_id")["arm"].agg(lambda a: frozenset(a.astype(str)))
        assert (arms.apply(len) == 2).all(), f"{name}: each patient gets both arms"
        assert out["is_active"].groupby(out["patient_id"]).sum().eq(1).all()


def test_parallel_allocation_is_exact(specs, cohorts) -> None:
    counts = cohorts["murrough2013"].outcomes["arm"].value_counts()
    assert counts["ketamine"] == 2000 and counts["midazolam"] == 1000


def _period_days(spec) -> tuple[dict[int, float], dict[int, float]]:
    """Per period number: days from enrolment to its first dose, and its follow-up days."""
    n_periods = len(spec.sequences[0].arms) if spec.design == "crossover" else 1
    starts = {k: h / 24.0 for k, h in phases.period_starts(spec, n_periods).items()}
    follow = {k: spec.follow_up_days for k in range(1, n_periods + 1)}
    follow.update({n_periods + 1 + j: p.follow_up_days for j, p in enumerate(spec.phases)})
    return starts, follow


def test_relapse_exists_only_for_responders_and_respects_censoring(specs, cohorts) -> None:
    for name, cohort in cohorts.items():
        out = cohort.outcomes
        starts, follow = _period_days(specs.trials[name])
        has = out["relapse_event"].notna()
        assert (out.loc[has, "response_end"] == 1).all(), name
        assert out.loc[has, "is_active"].all(), name
        days = out.loc[has, "relapse_days"]
        assert (days > 0).all() and (days <= out.loc[has, "period"].map(follow) + 1e-9).all(), name
        dropped = has & out["dropout_day"].notna()
        after_drop = out.loc[dropped, "relapse_days"] + out.loc[dropped, "end_hours"] / 24
        first_dose = out.loc[dropped, "period"].map(starts)
        assert (after_drop + first_dose <= out.loc[dropped, "dropout_day"] + 0.02).all(), name
    assert cohorts["sustain1"].outcomes["relapse_event"].notna().sum() > 500


def test_visits_agree_with_outcomes(cohorts) -> None:
    cohort = cohorts["murrough2013"]
    v = cohort.visits[cohort.visits["visit"] == "24h"].set_index("patient_id")
    o = cohort.outcomes.set_index("patient_id")
    seen = o["response_24h"].dropna()
    assert (v.loc[seen.index, "response"].astype(float) == seen).all()
    base = cohort.visits[cohort.visits["visit"] == "baseline"].set_index("patient_id")["score"]
    assert (base == o["baseline_score"]).all()
    assert (cohort.visits["score"] <= SCALES["madrs"].max_score).all()


def test_a_generated_trial_applies_the_dropout_and_missingness_specs(specs) -> None:
    spec = simple_trial(dropout={"rate": 0.3}, missingness={"rate": 0.1, "columns": ["bmi"]})
    c = generate_trial(spec, specs.population, specs.model, 5000, np.random.default_rng(5))
    dropped = c.outcomes["dropout_day"].notna().to_numpy()
    assert dropped.mean() == pytest.approx(0.3, abs=0.02)
    last = c.visits.groupby("patient_id")["hours"].max().to_numpy()
    assert (last[dropped] < last[~dropped].max()).mean() > 0.95
    assert c.patients["bmi"].isna().mean() == pytest.approx(0.1, abs=0.015)
    assert c.patients["age"].notna().all()


def _true_covariates(c) -> pd.DataFrame:
    """The patients table with the recorded covariates replaced by their true values."""
    true = c.truth.filter(like="true_").rename(columns=lambda name: name.removeprefix("true_"))
    return c.patients.drop(columns=list(true.columns)).join(true)


def _response_terms_at_24h(model, frame: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One column per distinct basis (a characteristic can be prognostic and predictive), and its
    true log-odds at 24 h after one reference IV dose: coef x profile, summed."""
    columns: dict[str, tuple[np.ndarray, float]] = {}
    for t in model.response.prognostic + model.response.predictive:
        basis, size = t.basis(frame), t.coef * float(t.profile(np.array([24.0]))[0])
        if t.label in columns:
            assert np.array_equal(columns[t.label][0], basis), t.label
            size += columns[t.label][1]
        columns[t.label] = (basis, size)
    labels = list(columns)
    X = np.column_stack([columns[k][0] for k in labels])
    return labels, X, np.array([columns[k][1] for k in labels])


def test_logistic_regression_recovers_the_planted_response_effects(specs) -> None:
    """The truth table is true: without rater error, fit response at 24 h on the model's own
    terms evaluated on the true covariates."""
    model, n = specs.model, 80_000
    spec = simple_trial(measurement={"rater_sd": 0.0})
    c = generate_trial(spec, specs.population, model, n, np.random.default_rng(9))
    labels, X, truth = _response_terms_at_24h(model, _true_covariates(c))
    y = c.outcomes["response_24h"].to_numpy()
    keep = X.std(axis=0) > 0
    Xc = np.column_stack([np.ones(n), X[:, keep]])
    beta = np.zeros(Xc.shape[1])
    for _ in range(25):  # Newton-Raphson for the unpenalised logistic MLE and its SEs
        p = sigmoid(Xc @ beta)
        info = Xc.T @ (Xc * (p * (1 - p))[:, None])
        beta += np.linalg.solve(info, Xc.T @ (y - p))
    se = np.sqrt(np.diag(np.linalg.inv(info)))[1:]
    truth = truth[keep]
    z = (beta[1:] - truth) / se
    assert np.all(np.abs(z) < 4), dict(zip(np.array(labels)[keep], z.round(1), strict=True))
    strong = np.abs(truth) > 4 * se
    assert strong.sum() >= 6
    assert np.all(np.sign(beta[1:][strong]) == np.sign(truth[strong]))
    assert c.truth["p_response_active_24h"].mean() == pytest.approx(y.mean(), abs=0.01)


def test_truth_probabilities_are_calibrated(specs, cohorts) -> None:
    for name in ("murrough2013", "zarate2006"):
        c = cohorts[name]
        o = c.outcomes.merge(c.truth, on=["patient_id", "trial"])
        act = o[o["is_active"] & o["response_24h"].notna()]
        ctl = o[~o["is_active"] & o["response_24h"].notna()]
        assert act["response_24h"].mean() == pytest.approx(
            act["p_response_active_24h"].mean(), abs=0.03
        )
        assert ctl["response_24h"].mean() == pytest.approx(
            ctl["p_response_control_24h"].mean(), abs=0.03
        )


def test_cox_model_recovers_the_planted_relapse_effects(specs) -> None:
    from lifelines import CoxPHFitter

    spec = simple_trial(
        arms=[{"name": "ketamine", "drug": "ketamine", "route": "iv", "dose": 0.5,
               "maintenance": {"interval_days": 14, "probability": 0.5}}],
        follow_up_days=180, visits={"hours": [24], "follow_up_days": [28]},
    )  # fmt: skip
    model = specs.model
    c = generate_trial(spec, specs.population, model, 30_000, np.random.default_rng(10))
    o = c.outcomes.merge(_true_covariates(c), on=["patient_id", "trial"])
    o = o[o["relapse_event"].notna()].copy()
    o["n_sessions"] = o["sessions"]
    names = {t.label: t for t in model.relapse.terms if t.label != "n_sessions"}
    X = pd.DataFrame({label: t.basis(o) for label, t in names.items()})
    X = X.loc[:, X.std() > 0]
    X["T"], X["E"] = o["relapse_days"].to_numpy(), o["relapse_event"].to_numpy()
    fit = CoxPHFitter().fit(X, "T", "E")
    for label, est in fit.params_.items():
        se = fit.standard_errors_[label]
        assert abs(est - names[label].coef) < 4 * se + 0.02, (label, est, names[label].coef)
    assert fit.params_["on_maintenance"] < -0.8


def test_designs_made_by_threads_are_the_designs_made_one_by_one(specs) -> None:
    sizes = {"berman2000": 150, "realworld": 400, "sustain1": 250, "zarate2006": 100}

    def made(workers: int) -> list:
        parts = generate_parts(
            specs.trials, sizes, specs.population, specs.model, seed=5, horizon_days=28.0,
            workers=workers,
        )  # fmt: skip
        return list(parts)

    alone, threaded = made(1), made(2)
    assert [len(part.patients) for part in threaded] == list(sizes.values())
    for one, other in zip(alone, threaded, strict=True):
        for table in COHORT_TABLES:
            pd.testing.assert_frame_equal(getattr(one, table), getattr(other, table))


@pytest.mark.parametrize("workers", [1, 2])
def test_designs_made_ahead_come_in_order_and_no_more_than_the_threads_allow(workers) -> None:
    started = []

    def call(i: int) -> int:
        started.append(i)
        return i

    sizes = [10, 50, 20, 30, 40]
    results = []
    calls = [functools.partial(call, i) for i in range(5)]
    for taken, result in enumerate(_ahead(calls, sizes, workers=workers), start=1):
        assert len(started) - taken <= workers  # besides the one taken, `workers` at most
        results.append(result)
    assert results == [0, 1, 2, 3, 4]
    if workers == 1:  # one thread runs them in the order they were given to it
        assert started == [1, 0, 2, 3, 4]  # the largest first


def test_a_failed_design_is_raised_in_its_turn() -> None:
    def call(i: int) -> int:
        if i == 1:
            raise ValueError("design 1 failed")
        return i

    parts = _ahead([functools.partial(call, i) for i in range(4)], [1, 1, 1, 1], workers=2)
    assert next(parts) == 0
    with pytest.raises(ValueError, match="design 1 failed"):
        next(parts)
