"""`dvc repro` end to end on a user's cohort, flat shape, and `ketapredict validate` on
it: the tests of tests/intake/own_pipeline.py, bound here."""

import pytest

from tests.intake.own_pipeline import shape_tests

pytestmark = pytest.mark.slow
globals().update(shape_tests(flat=True))
