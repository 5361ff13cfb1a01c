"""Task tables: labels, censoring weights, oracle truth and patient-grouped splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketapredict.datasets import assign_split, censoring_survival
from ketapredict.train import folds


def test_split_never_shares_a_patient_and_is_stratified() -> None:
    rng = np.random.default_rng(0)
    ids = np.repeat(np.arange(500), 2)  # two rows per patient, e.g. two crossover periods
    frame = pd.DataFrame({"patient_id": ids, "y": rng.integers(0, 2, len(ids))})
    split = assign_split(frame, test_fraction=0.2, seed=3)
    test_ids = set(frame.loc[split == "test", "patient_id"])
    train_ids = set(frame.loc[split == "train", "patient_id"])
    assert not test_ids & train_ids
    assert (split == "test").mean() == pytest.approx(0.2, abs=0.02)
    assert frame.loc[split == "test", "y"].mean() == pytest.approx(frame["y"].mean(), abs=0.05)
    np.testing.assert_array_equal(split, assign_split(frame, test_fraction=0.2, seed=3))


def test_cv_folds_never_share_a_patient_and_are_stratified_and_seeded() -> None:
    rng = np.random.default_rng(1)
    groups = rng.permutation(np.repeat(np.arange(300), 3))
    y = rng.integers(0, 2, len(groups)).astype(float)
    cv = folds(y, groups, n_folds=5, seed=2)
    held = np.concatenate([val for _, val in cv])
    np.testing.assert_array_equal(np.sort(held), np.arange(len(y)))  # each row held out once
    for fit_idx, val_idx in cv:
        assert not set(groups[fit_idx]) & set(groups[val_idx])
        assert len(val_idx) == pytest.approx(len(y) / 5, rel=0.1)
        assert y[val_idx].mean() == pytest.approx(y.mean(), abs=0.06)
    again = folds(y, groups, n_folds=5, seed=2)
    for (a, b), (c, d) in zip(cv, again, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_censoring_km_is_left_continuous() -> None:
    # censoring "events" at 2 and 4 among 4 subjects
    G = censoring_survival(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 0.0, 1.0]))
    np.testing.assert_allclose(G(np.array([0.5, 2.0, 2.5, 4.0, 5.0])), [1, 1, 2 / 3, 2 / 3, 0])


def test_relapse_labels_are_unbiased_after_weighting(tmp_path) -> None:
    """On the generator's data, the weighted relapse rate matches the true risk."""
    from ketapredict.cohort.generate import generate_cohort
    from ketapredict.cohort.specs import load_specs
    from ketapredict.datasets import relapse_table
    from ketapredict.layout import Layout
    from tests.conftest import ROOT

    specs = load_specs(Layout(ROOT))
    sizes = {"murrough2013": 3000, "realworld": 6000, "murrough2013_serial": 2000}
    c = generate_cohort(specs.trials, sizes, specs.population, specs.model, seed=4, horizon_days=28)
    table = relapse_table(c.patients, c.outcomes, c.truth, horizon_days=28, model=specs.model)
    frame = table.frame
    assert table.counts["excluded_short_follow_up"] > 0
    assert "murrough2013" not in set(frame["trial"]), "7-day follow-up cannot inform a 28-day label"
    weighted = np.average(frame["y"], weights=frame["weight"])
    assert weighted == pytest.approx(frame["p_true"].mean(), abs=0.015)
