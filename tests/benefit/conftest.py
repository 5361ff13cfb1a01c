"""A small simulated randomized trial with a planted benefit, and the learners fitted on it,
shared by the benefit tests."""

from __future__ import annotations

import numpy as np
import pytest

from ketapredict.benefit.learners import LEARNERS, BenefitData, FittedLearner, fit_learner


def simulate_trial(
    patients: int = 1_000, *, features: int = 5, modifier: int = 0, seed: int = 0
) -> tuple[BenefitData, np.ndarray, np.ndarray]:
    """Two arms, half the patients crossing over (one row per arm: ~1,500 rows), 5 % of x
    missing. Baseline response risk rises with x1; the true benefit is 0.3 where x[modifier] > 0,
    else none. Returns the data, the true benefit of each row and its true probability of
    response on treatment."""
    rng = np.random.default_rng(seed)
    Xp = rng.normal(size=(patients, features))
    crossover = rng.random(patients) < 0.5
    first = rng.integers(0, 2, patients)
    patient = np.concatenate([np.arange(patients), np.flatnonzero(crossover)])
    treated = np.concatenate([first, 1 - first[crossover]]).astype(float)
    X = Xp[patient]
    base = 0.6 / (1 + np.exp(-1.5 * X[:, 1]))
    benefit = 0.3 * (X[:, modifier] > 0)
    y = (rng.random(len(patient)) < base + treated * benefit).astype(float)
    X[rng.random(X.shape) < 0.05] = np.nan
    names = [f"x{i}" for i in range(features)]
    return BenefitData(X, treated, y, patient + 100, names), benefit, base + benefit


@pytest.fixture(scope="session")
def trial() -> tuple[BenefitData, np.ndarray, np.ndarray]:
    return simulate_trial()


@pytest.fixture(scope="session")
def fitted(trial) -> dict[str, FittedLearner]:
    """Every learner fitted once on the trial."""
    return {name: fit_learner(name, trial[0], seed=7) for name in LEARNERS}
