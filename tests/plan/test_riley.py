"""Riley's criteria against pmsampsize's worked examples (its testthat suite, binary outcome),
and the truth's Cox–Snell R² on constructed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ketapredict.errors import DataError
from ketapredict.plan.riley import cox_snell_r2, riley_binary

# (R²_CS, parameters, prevalence) -> criteria 1, 2, 3, the minimum, and its events per
# parameter: pmsampsize 1.1.3, tests/testthat/test_bin.R, tests 4.1-4.4
EXAMPLES = [
    ((0.288, 24, 0.174), (623, 668, 221, 668), 4.84),
    ((0.55, 24, 0.174), (255, 532, 221, 532), 3.86),
    ((0.288, 36, 0.174), (934, 1002, 221, 1002), 4.84),
    ((0.288, 24, 0.25), (623, 583, 289, 623), 6.49),
]


@pytest.mark.parametrize(("given", "sizes", "epp"), EXAMPLES)
def test_pmsampsize_worked_examples(given, sizes, epp) -> None:
    found = riley_binary(*given)
    assert (found.criterion_1, found.criterion_2, found.criterion_3, found.minimum) == sizes
    assert found.events_per_parameter(found.minimum) == epp


@pytest.mark.parametrize(
    ("given", "message"),
    [((0.2, 10, 0.0), "prevalence"), ((0.2, 0, 0.3), "parameters"), ((0.95, 10, 0.3), "R²"),
     ((0.6, 10, 0.02), "largest possible")],
)  # fmt: skip
def test_impossible_inputs_are_refused(given, message) -> None:
    with pytest.raises(DataError, match=message):
        riley_binary(*given)


def test_cox_snell_r2_of_the_truth() -> None:
    assert cox_snell_r2(np.full(100, 0.3)) == pytest.approx(0.0, abs=1e-12)  # no information
    p = np.r_[np.full(50, 0.1), np.full(50, 0.7)]
    q = 0.4
    log_true = 0.5 * (0.1 * math.log(0.1) + 0.9 * math.log(0.9))
    log_true += 0.5 * (0.7 * math.log(0.7) + 0.3 * math.log(0.3))
    log_null = q * math.log(q) + (1 - q) * math.log(1 - q)
    assert cox_snell_r2(p) == pytest.approx(1 - math.exp(2 * (log_null - log_true)))
    assert 0 < cox_snell_r2(p) < 1
