"""Shared fixtures: the project's real specs, and small helpers to build variants of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from ketapredict.cohort.specs import Specs, TrialSpec, load_specs
from ketapredict.environment import set_defaults
from ketapredict.layout import Layout

ROOT = Path(__file__).resolve().parents[1]

set_defaults()  # no telemetry, no progress bars, as the CLI sets them


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def specs() -> Specs:
    return load_specs(Layout(ROOT))


def trial_data(name: str) -> dict[str, Any]:
    """A preset's YAML as plain data, to modify in a test."""
    return yaml.safe_load((ROOT / "configs" / "trials" / f"{name}.yaml").read_text())


def simple_trial(**changes: Any) -> TrialSpec:
    """A one-arm, one-session IV ketamine design at the reference dose, no dropout/missingness."""
    data: dict[str, Any] = {
        "name": "simple",
        "title": "test design",
        "citation": "none",
        "design": "open_label",
        "published_n": 100,
        "scale": "madrs",
        "arms": [{"name": "ketamine", "drug": "ketamine", "route": "iv", "dose": 0.5}],
        "visits": {"hours": [2, 24, 72], "follow_up_days": [7, 14, 28]},
        "follow_up_days": 28,
    }
    data.update(changes)
    return TrialSpec.model_validate(data)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def population_sample(specs):
    """2000 patients of the shared population, with true covariates."""
    from ketapredict.cohort.population import sample_population

    return sample_population(specs.population, 2000, np.random.default_rng(7))
