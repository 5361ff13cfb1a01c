"""Training's pieces: single-threaded fits, and the refit evaluation resamples: it repeats the
training procedure, so optimism-corrected figures match what the procedure achieves on a
large independent sample of the same population."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict

import numpy as np
import pytest

from ketapredict import metrics, train
from ketapredict.cohort.specs import load_specs
from ketapredict.config import GenerateParams
from ketapredict.datasets import responder_table
from ketapredict.features import build_features, feature_names
from ketapredict.layout import Layout
from ketapredict.stages.generate import build
from tests.conftest import ROOT


def test_every_fit_is_single_threaded() -> None:
    """Multi-threaded fits collapse when other jobs hold the cores (OpenMP threads spin-wait
    for descheduled peers: a training stage ran 26-50 minutes instead of 20 seconds with three
    pipelines on 2 cores). Every fit uses one thread; parallelism comes from processes
    (benchmarks/bench_contention.py measures two trainings at once against one alone)."""
    from ketapredict import train

    candidate = {"num_leaves": 4, "learning_rate": 0.1, "min_child_samples": 5,
                 "reg_lambda": 0.0, "feature_fraction": 1.0}  # fmt: skip
    assert train.lgb_params(candidate, seed=1)["num_threads"] == 1
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), rng.integers(0, 2, 200).astype(float)
    booster = train.train_booster(candidate, 5, X, y, seed=1)
    assert booster.params["num_threads"] == 1


PROCEDURE = train.Procedure(seed=5, cv_folds=5, max_trees=300, early_stopping_rounds=20)
CANDIDATE = {"num_leaves": 4, "learning_rate": 0.1, "min_child_samples": 50, "reg_lambda": 1.0,
             "feature_fraction": 0.9}  # fmt: skip


def _one_population(specs):
    """The specs without between-trial heterogeneity: every cohort of a design is then a
    sample of one population (with it, each seed is another trial, and a model validated
    internally in one trial meets another trial's shifts outside -- what internal validation
    cannot see)."""
    r = specs.model.response
    flat = r.heterogeneity.model_copy(update={"expectancy_sd": 0.0, "drug_sd": 0.0})
    model = specs.model.model_copy(
        update={"response": r.model_copy(update={"heterogeneity": flat})}
    )
    return dataclasses.replace(specs, model=model)


def _cohort(specs, seed: int, n: int):
    specs = _one_population(specs)
    params = GenerateParams(seed=seed, relapse_horizon_days=28, cohorts={"realworld": n})
    c = build(params, specs)
    table = responder_table(
        c.patients, c.visits, c.outcomes, c.truth, visit="24h", threshold=0.5, model=specs.model
    ).frame
    return table, build_features(table, "responder")[feature_names("responder")]


@pytest.mark.slow
def test_optimism_corrected_figures_match_a_large_independent_sample() -> None:
    """Three development cohorts of 3,000 real-world patients; each: the training procedure,
    its optimism-corrected AUROC and slope (20 resamples), and the same model on 60,000 new
    patients. Per cohort the realised external slope scatters around its expectation (SD about
    0.04 at this size, measured), so the test compares the means over the three cohorts:
    tolerance 0.06 for the slope (about 2.5 standard errors of that mean) and 0.015 for AUROC.
    The old refit (calibration map fitted on the refit's own in-sample scores) missed the
    slope by about 0.28 here (corrected 0.75-0.77 vs external 1.05). The cohorts come from
    the strong-heterogeneity scenario: its larger effects measure the slope as precisely at
    this size as the old, stronger default truth did (the test is of the procedure, not of a
    truth)."""
    specs = load_specs(Layout(ROOT), "strong_heterogeneity")
    big, X_big = _cohort(specs, 999, 60_000)
    y_big = big["y"].to_numpy(float)
    corrected, external = [], []
    for seed in (1, 2, 3):
        dev, X = _cohort(specs, seed, 3000)
        y, w, g = (dev[c].to_numpy() for c in ("y", "weight", "patient_id"))
        tuning, booster = train.fit_procedure(
            X, y.astype(float), w.astype(float), g, PROCEDURE, candidates=[CANDIDATE]
        )
        model = train.package(booster, X, tuning, task="responder")
        model.meta.update(params=CANDIDATE, procedure=asdict(PROCEDURE))
        out = metrics.optimism_corrected(
            train.refit(model), X, y.astype(float), w.astype(float), groups=g,
            rng=np.random.default_rng(seed), n_resamples=20, workers=2,
        )  # fmt: skip
        corrected.append([out["auroc"]["corrected"], out["calibration_slope"]["corrected"]])
        p = model.predict_matrix(X_big)
        external.append([metrics.auroc(y_big, p), metrics.calibration_slope(y_big, p)])
    (auc_c, slope_c), (auc_e, slope_e) = np.mean(corrected, axis=0), np.mean(external, axis=0)
    assert slope_c == pytest.approx(slope_e, abs=0.06), (corrected, external)
    assert auc_c == pytest.approx(auc_e, abs=0.015), (corrected, external)


def test_a_refit_of_the_whole_data_reproduces_the_model() -> None:
    """The refit is the training procedure minus the search: on the model's own rows and
    candidate it gives the model's own predictions."""
    specs = load_specs(Layout(ROOT))
    dev, X = _cohort(specs, 4, 1500)
    y, w, g = dev["y"].to_numpy(float), dev["weight"].to_numpy(float), dev["patient_id"]
    tuning, booster = train.fit_procedure(X, y, w, g.to_numpy(), PROCEDURE, candidates=[CANDIDATE])
    model = train.package(booster, X, tuning, task="responder")
    model.meta.update(params=CANDIDATE, procedure=asdict(PROCEDURE))
    again = train.refit(model)(X, y, w, g.to_numpy(), X)
    np.testing.assert_array_equal(again, model.predict_matrix(X))
