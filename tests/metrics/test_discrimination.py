"""AUROC and AUPRC: the single and batch paths equal scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from ketapredict import metrics as m


def test_discrimination_is_sklearn(small):
    y, p = small
    assert m.discrimination(y, p) == {
        "auroc": pytest.approx(skm.roc_auc_score(y, p)),
        "auprc": pytest.approx(skm.average_precision_score(y, p)),
    }


@pytest.mark.parametrize(
    ("fn", "ref"), [(m.auroc, skm.roc_auc_score), (m.auprc, skm.average_precision_score)]
)
def test_batch_path_equals_sklearn_with_sample_weights(small, counts, fn, ref):
    y, p = small
    p = np.round(p, 2)  # ties, which rank-based measures must split evenly
    expected = [ref(y, p, sample_weight=w) for w in counts]
    np.testing.assert_allclose(fn(y, p, counts), expected, rtol=1e-12)


@pytest.mark.parametrize("fn", [m.auroc, m.auprc])
def test_batch_path_equals_evaluating_each_resample(small, counts, fn):
    y, p = small
    expected = [fn(np.repeat(y, w.astype(int)), np.repeat(p, w.astype(int))) for w in counts]
    np.testing.assert_allclose(fn(y, p, counts), expected, rtol=1e-8)


def test_perfect_ranking_and_reversed_ranking():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.8, 0.9])
    assert m.auroc(y, p) == 1.0 and m.auprc(y, p) == 1.0
    assert m.auroc(y, 1 - p) == 0.0
