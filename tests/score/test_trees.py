"""Scoring's trees (LightGBM's library called directly) give lightgbm.Booster's values, bit for
bit, and refuse what is not a model."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from ketapredict.score.trees import Trees, TreesError


@pytest.fixture(scope="module")
def booster() -> lgb.Booster:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 6))
    X[rng.random(X.shape) < 0.1] = np.nan  # missing values take the trees' default branches
    y = (X[:, 0] + rng.normal(size=2000) > 0).astype(float)
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "seed": 1}
    return lgb.train(params, lgb.Dataset(X, y), num_boost_round=40)


def test_the_values_are_the_boosters_bit_for_bit(booster: lgb.Booster) -> None:
    trees = Trees(booster.model_to_string())
    X = np.random.default_rng(1).normal(size=(500, 6))
    X[::7, 2] = np.nan
    for layout in (np.ascontiguousarray(X), np.asfortranarray(X), X[100:300]):
        for threads in (0, 1):
            raw = booster.predict(layout, raw_score=True, num_threads=threads)
            np.testing.assert_array_equal(
                trees.predict(layout, raw_score=True, num_threads=threads), raw
            )
            contrib = booster.predict(layout, pred_contrib=True, num_threads=threads)
            np.testing.assert_array_equal(
                trees.predict(layout, pred_contrib=True, num_threads=threads), contrib
            )


def test_no_rows_give_no_values(booster: lgb.Booster) -> None:
    trees = Trees(booster.model_to_string())
    assert trees.predict(np.empty((0, 6)), raw_score=True).shape == (0,)
    assert trees.predict(np.empty((0, 6)), pred_contrib=True).shape == (0, 7)


def test_what_is_not_a_model_is_refused(booster: lgb.Booster) -> None:
    with pytest.raises(TreesError):
        Trees("not a model")
    trees = Trees(booster.model_to_string())
    with pytest.raises(TreesError):
        trees.predict(np.zeros((3, 2)), raw_score=True)  # too few columns
    with pytest.raises(TreesError):
        trees.predict(np.zeros(6), raw_score=True)
    with pytest.raises(TreesError):
        trees.predict(np.zeros((3, 6)))  # probabilities: scoring calibrates raw scores itself
