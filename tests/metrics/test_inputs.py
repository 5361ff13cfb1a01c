"""Input checks: bad outcomes, probabilities and thresholds raise the right error type."""

from __future__ import annotations

import numpy as np
import pytest

from ketapredict import metrics as m
from ketapredict.errors import ConfigError, DataError
from ketapredict.metrics import inputs


@pytest.mark.parametrize(
    ("y", "p"), [([0, 2, 1], [0.1, 0.2, 0.3]), ([0, 1, 1], [0.1, 1.2, 0.3]), ([0, 1], [0.5])]
)
def test_bad_inputs_raise_data_error(y, p):
    with pytest.raises(DataError):
        m.brier(y, p)


@pytest.mark.parametrize("p", [[0.1, np.nan], [0.1, np.inf], [-0.1, 0.5]])
def test_probabilities_must_be_finite_and_in_the_unit_interval(p):
    with pytest.raises(DataError):
        inputs.check_proba(p)


def test_outcome_must_be_one_dimensional():
    with pytest.raises(DataError, match="1-D"):
        inputs.check_outcome([[0, 1], [1, 0]])


def test_valid_inputs_come_back_as_floats():
    y, p = inputs.check([0, 1, True], [0, 1, 0.5])
    assert y.dtype == p.dtype == np.float64
    np.testing.assert_array_equal(y, [0, 1, 1])


@pytest.mark.parametrize("t", [0.0, 1.0, [0.2, 1.5]])
def test_thresholds_must_lie_strictly_inside_the_unit_interval(t):
    with pytest.raises(ConfigError):
        inputs.check_thresholds(t)


def test_a_single_threshold_becomes_an_array():
    np.testing.assert_array_equal(inputs.check_thresholds(0.3), [0.3])


def test_clipped_logit_stays_finite_at_certainty():
    assert np.isfinite(inputs.clipped_logit(np.array([0.0, 1.0]))).all()


def test_weighted_mean_per_row_of_weights():
    values = np.array([1.0, 2.0, 4.0])
    assert inputs.weighted_mean(values, None) == pytest.approx(7 / 3)
    rows = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 3.0]])
    np.testing.assert_allclose(inputs.weighted_mean(values, rows), [1.5, 14 / 4])
