"""A small generated cohort, as the generator writes it (with truth) and as a user's files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketapredict.cohort import frames
from ketapredict.cohort.generate import generate_trial
from ketapredict.intake import export


@pytest.fixture(scope="session")
def generated(specs) -> dict[str, pd.DataFrame]:
    """A parallel trial (with a comparator) and a relapse-following course: the generator's
    tables, truth included."""
    rng = np.random.default_rng(3)
    parts = [
        generate_trial(specs.trials["murrough2013"], specs.population, specs.model, 60, rng),
        generate_trial(
            specs.trials["murrough2013_serial"], specs.population, specs.model, 120, rng,
            id_offset=1000,
        ),
    ]  # fmt: skip
    return {t: frames.concat([getattr(p, t) for p in parts]) for t in frames.COHORT_TABLES}


@pytest.fixture(scope="session")
def cohort(generated) -> dict[str, pd.DataFrame]:
    """The same cohort exported as a user's three tables (no truth)."""
    return export.three_tables(generated["patients"], generated["outcomes"], generated["visits"])
