"""The shared effect model's building blocks: dose, sessions, curves, linear predictors."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from ketapredict.cohort.effects import Curve, Term, linear_predictor


def test_dose_factor_is_one_at_reference_and_saturates(specs) -> None:
    m = specs.model
    assert m.dose_factor("ketamine", "iv", 0.5) == pytest.approx(1.0)
    doses = [0.1, 0.2, 0.5, 1.0, 2.0, 10.0]
    f = [m.dose_factor("ketamine", "iv", d) for d in doses]
    assert all(b > a for a, b in itertools.pairwise(f))
    gains = np.diff(f) / np.diff(doses)
    assert all(b < a for a, b in itertools.pairwise(gains))
    emax = (m.response.ed50 + m.response.reference_dose) / m.response.reference_dose
    assert f[-1] < emax
    assert m.dose_factor("saline", "iv", 0.5) == 0.0
    assert m.dose_factor("ketamine", "oral", 0.5) < m.dose_factor("ketamine", "iv", 0.5)


def test_repeated_sessions_build_and_hold_the_effect(specs) -> None:
    m = specs.model
    one = m.session_weight(np.array([24.0]), np.array([0.0]))[0]
    sessions = np.arange(6) * 24 * 2.0
    six = m.session_weight(np.array([sessions[-1] + 24.0]), sessions)[0]
    assert one == pytest.approx(1.0)
    assert six > one
    late = m.session_weight(np.array([24.0 * 60]), np.array([0.0]))[0]
    assert late < 0.2


def test_curve_interpolates_in_log_time_and_is_flat_outside() -> None:
    c = Curve(hours=[1, 100], values=[0.0, 1.0])
    assert c.at(0.0) == 0.0 and c.at(1000.0) == 1.0
    assert c.at(np.sqrt(2 * 101) - 1) == pytest.approx(0.5, abs=1e-9)


def test_linear_predictor_adds_each_term_on_its_transform() -> None:
    frame = pd.DataFrame({"age": [30.0, 50.0], "female": [1.0, 0.0], "dx": ["mdd", "ptsd"]})
    terms = [
        Term(covariate="age", coef=0.1, center=40.0),
        Term(covariate="age", coef=1.0, transform="hinge", knot=45.0),
        Term(covariate="age", coef=2.0, transform="log", center=40.0),
        Term(covariate=("age", "female"), coef=0.01),
        Term(covariate="dx", coef=-1.0, transform="equals", value="ptsd"),
    ]
    expected = [
        -1.0 + 0.0 + 2 * (np.log1p(30) - np.log1p(40)) + 0.3,
        1.0 + 5.0 + 2 * (np.log1p(50) - np.log1p(40)) + 0.0 - 1.0,
    ]
    np.testing.assert_allclose(linear_predictor(terms, frame), expected, rtol=1e-12)
    assert [t.label for t in terms[1:]] == ["age above 45", "age", "age x female", "dx = ptsd"]
