"""The memory guard refuses, before allocating, what cannot fit, and says what would."""

from __future__ import annotations

import pytest

from ketapredict.errors import ConfigError
from ketapredict.memory import BYTES_PER_PATIENT, available_memory, require_patients


def test_what_fits_passes_and_what_does_not_says_how_much_would() -> None:
    require_patients(1_000, what="generate.cohorts", available=1_000 * BYTES_PER_PATIENT)
    with pytest.raises(ConfigError, match=r"generate\.cohorts: 2,000 patients .* about 1,000 fit"):
        require_patients(2_000, what="generate.cohorts", available=1_000 * BYTES_PER_PATIENT)


def test_available_memory_is_a_positive_number_of_bytes() -> None:
    assert available_memory() > 1 << 20
