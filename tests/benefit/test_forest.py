"""The causal forest as plain arrays: its estimates are econml's own to the last bit, and
arrays that are not a forest are refused."""

from __future__ import annotations

import numpy as np
import pytest

from ketapredict.benefit.forest import check_forest, forest_arrays, forest_effect
from ketapredict.benefit.learners import causal_forest_dml, impute
from ketapredict.errors import ModelError
from tests.benefit.conftest import simulate_trial


def test_the_arrays_give_econml_estimates_to_the_last_bit() -> None:
    data = simulate_trial(400, seed=8)[0]
    est, medians = causal_forest_dml(data, seed=2)
    X = impute(data.X, medians)
    arrays = forest_arrays(est)
    assert len(arrays["roots"]) == 400
    check_forest(arrays, data.X.shape[1])
    np.testing.assert_array_equal(forest_effect(arrays, X), est.effect(X))


def _stump() -> dict[str, np.ndarray]:
    """Two one-split trees on feature 0 (threshold 0) and 1: effects 1 or 3 on either side."""
    return {
        "roots": np.array([0, 3]),
        "left": np.array([1, -1, -1, 4, -1, -1]),
        "right": np.array([2, -1, -1, 5, -1, -1]),
        "feature": np.array([0, -2, -2, 1, -2, -2]),
        "threshold": np.array([0.0, -2, -2, 0.0, -2, -2]),
        "precond": np.array([[0.0], [1], [3], [0], [1], [3]]),
        "jac": np.ones((6, 1)),
    }


def test_a_hand_made_forest_averages_its_trees() -> None:
    X = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(forest_effect(_stump(), X), [1.0, 2.0, 3.0, 1.0])


@pytest.mark.parametrize(
    "key, index, value",
    [("left", 3, 2), ("right", 0, 6), ("feature", 3, 2), ("roots", 1, -1), ("left", 1, 2)],
)
def test_arrays_that_are_not_a_forest_are_refused(key: str, index: int, value: int) -> None:
    arrays = _stump()
    check_forest(arrays, 2)
    arrays[key][index] = value
    with pytest.raises(ModelError, match="not a causal forest"):
        check_forest(arrays, 2)


def test_arrays_of_the_wrong_kind_are_refused() -> None:
    arrays = _stump()
    arrays["left"] = arrays["left"].astype(float)
    with pytest.raises(ModelError, match="length, shape or type"):
        check_forest(arrays, 2)
    with pytest.raises(ModelError, match="expected arrays"):
        check_forest({k: v for k, v in _stump().items() if k != "jac"}, 2)
