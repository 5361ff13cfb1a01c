"""Brier score, scaled Brier score and log loss against scikit-learn and cases by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from ketapredict import metrics as m


@pytest.mark.parametrize(
    ("fn", "ref"), [(m.brier, skm.brier_score_loss), (m.log_loss, skm.log_loss)]
)
def test_batch_path_equals_sklearn_with_sample_weights(small, counts, fn, ref):
    y, p = small
    p = np.round(p, 2)
    expected = [ref(y, p, sample_weight=w) for w in counts]
    np.testing.assert_allclose(fn(y, p, counts), expected, rtol=1e-12)


def test_scaled_brier_batch_path_equals_evaluating_each_resample(small, counts):
    y, p = small
    expected = [
        m.scaled_brier(np.repeat(y, w.astype(int)), np.repeat(p, w.astype(int))) for w in counts
    ]
    np.testing.assert_allclose(m.scaled_brier(y, p, counts), expected, rtol=1e-8)


def test_scaled_brier_is_zero_for_the_prevalence_model_and_one_for_perfect(small):
    y, _ = small
    assert m.scaled_brier(y, np.full(y.size, y.mean())) == pytest.approx(0.0, abs=1e-12)
    assert m.scaled_brier(y, y.astype(float)) == pytest.approx(1.0)


def test_brier_and_log_loss_by_hand():
    y, p = np.array([1, 0]), np.array([0.8, 0.4])
    assert m.brier(y, p) == pytest.approx((0.04 + 0.16) / 2)
    assert m.log_loss(y, p) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)


def test_log_loss_stays_finite_for_certain_wrong_predictions():
    y, p = np.array([1, 0]), np.array([0.0, 1.0])
    assert np.isfinite(m.log_loss(y, p))
    assert np.isfinite(m.log_loss(y, p, np.ones((2, 2)))).all()
