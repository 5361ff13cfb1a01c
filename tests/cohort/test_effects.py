"""The shared effect model's building blocks: dose, sessions, curves, linear predictors."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from ketapredict.cohort.effects import Curve, Term, TermBasis, linear_predictor


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
        Term(covariate="age", coef=0.1, center=40.0, source="test"),
        Term(covariate="age", coef=1.0, transform="hinge", knot=45.0, source="test"),
        Term(covariate="age", coef=2.0, transform="log", center=40.0, source="test"),
        Term(covariate=("age", "female"), coef=0.01, source="test"),
        Term(covariate="dx", coef=-1.0, transform="equals", value="ptsd", source="test"),
    ]
    expected = [
        -1.0 + 0.0 + 2 * (np.log1p(30) - np.log1p(40)) + 0.3,
        1.0 + 5.0 + 2 * (np.log1p(50) - np.log1p(40)) + 0.0 - 1.0,
    ]
    np.testing.assert_allclose(linear_predictor(terms, frame), expected, rtol=1e-12)
    assert [t.label for t in terms[1:]] == ["age above 45", "age", "age x female", "dx = ptsd"]


def test_steps_caps_and_time_profiles_shape_a_term() -> None:
    frame = pd.DataFrame({"bzd": [0.0, 8.0, 9.0], "bmi": [20.0, 35.0, 50.0]})
    step = Term(covariate="bzd", coef=-0.7, transform="step", knot=8.0, source="test")
    np.testing.assert_array_equal(step.basis(frame), [0.0, 0.0, 1.0])
    assert step.label == "bzd > 8"
    capped = Term(covariate="bmi", coef=0.1, center=28.0, cap=35.0, source="test")
    np.testing.assert_array_equal(capped.basis(frame), [-8.0, 7.0, 7.0])
    timed = Term(
        covariate="bzd", coef=1.0, source="assumption: test",
        time={"hours": [24, 168], "values": [1.0, 0.0]},
    )  # fmt: skip
    np.testing.assert_allclose(timed.profile(np.array([2.0, 24.0, 168.0, 500.0])), [1, 1, 0, 0])
    assert timed.assumption and not step.assumption
    at = TermBasis([step, timed], frame).at(np.array([24.0, 168.0]))
    np.testing.assert_allclose(at, [[0.0, 0.0], [8.0, 0.0], [8.3, -0.7]])


def test_a_term_without_a_source_is_rejected() -> None:
    with pytest.raises(ValueError, match="source"):
        Term(covariate="age", coef=0.1)
