"""Simulate each preset at its published size R times, and at a large size for its population
value; summarise each published figure as (median, 95 % interval) over the replications."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ketapredict.cohort import frames
from ketapredict.cohort.effects import EffectModel
from ketapredict.cohort.frames import COHORT_TABLES, Cohort
from ketapredict.cohort.generate import generate_trial
from ketapredict.cohort.population import PopulationSpec
from ketapredict.cohort.specs import Target, TrialSpec
from ketapredict.contract import ID
from ketapredict.replicate import stats
from ketapredict.replicate.targets import PooledTarget, compute


@dataclass(frozen=True)
class World:
    """Everything a simulation needs: the shared population and effect model, the presets."""

    population: PopulationSpec
    model: EffectModel
    trials: dict[str, TrialSpec]


def _rng(seed: int, *keys: int | str) -> np.random.Generator:
    words = [zlib.crc32(k.encode()) if isinstance(k, str) else k for k in keys]
    return np.random.default_rng([seed, *words])


def _split(cohort: Cohort, size: int, count: int) -> list[Cohort]:
    """Cut a cohort simulated in blocks into its `count` trials (tables are sorted by id)."""
    cuts = np.arange(1, count) * size
    parts: list[list] = [[] for _ in range(count)]
    for table in COHORT_TABLES:
        frame = getattr(cohort, table)
        bounds = np.searchsorted(frame[ID].to_numpy(), cuts)
        for i, piece in enumerate(np.split(np.arange(len(frame)), bounds)):
            parts[i].append(frame.iloc[piece[0] : piece[-1] + 1] if len(piece) else frame.iloc[:0])
    return [Cohort(*p) for p in parts]


def simulate_trials(
    world: World,
    name: str,
    n: int,
    replications: int,
    rng: np.random.Generator,
    *,
    typical: bool = False,
) -> list[Cohort]:
    """`replications` independent trials of size n, simulated in one vectorized call, each
    drawing its own trial effects (`typical`: none, the design's typical trial)."""
    spec = world.trials[name]
    big = generate_trial(
        spec, world.population, world.model, n * replications, rng, block_size=n,
        typical_trial=typical,
    )  # fmt: skip
    return _split(big, n, replications)


def replicate_trial(
    world: World, name: str, *, replications: int, seed: int
) -> list[dict[str, float]]:
    """Per replication: {target label: simulated value} at the trial's published size."""
    spec = world.trials[name]
    trials = simulate_trials(world, name, spec.published_n, replications, _rng(seed, name))
    return [
        {t.label: compute(t, c, enrolled=spec.published_n) for t in spec.published} for c in trials
    ]


def population_values(world: World, name: str, *, n: int, seed: int) -> dict[str, float]:
    """The design's value of each target at a very large size in its typical trial (every
    trial effect 0): its population value."""
    spec = world.trials[name]
    (cohort,) = simulate_trials(world, name, n, 1, _rng(seed, name, "population"), typical=True)
    return {t.label: compute(t, cohort, enrolled=spec.published_n) for t in spec.published}


def _pooled_trials(
    world: World,
    designs: list[str],
    n: int,
    replications: int,
    rng: np.random.Generator,
    *,
    typical: bool = False,
) -> list[Cohort]:
    """Meta-samples: each replication pools the designs, n split evenly between them."""
    sizes = np.diff(np.linspace(0, n, len(designs) + 1).round().astype(int))
    per_design = [
        simulate_trials(world, name, int(size), replications, rng, typical=typical)
        for name, size in zip(designs, sizes, strict=True)
    ]
    return [
        Cohort(*(frames.concat([getattr(d[r], t) for d in per_design]) for t in COHORT_TABLES))
        for r in range(replications)
    ]


def replicate_pooled(
    world: World, group: list[PooledTarget], *, replications: int, seed: int, population_n: int
) -> tuple[list[list[float]], list[float]]:
    """Figures that pool the same designs at the same size share each simulated meta-sample:
    per figure, its values over the replications and its population value."""
    designs, n = group[0].designs, group[0].n
    key = "+".join(designs) + f"/{n}"
    samples = _pooled_trials(world, designs, n, replications, _rng(seed, key))
    values = [[compute(p.target, c, enrolled=n) for c in samples] for p in group]
    (big,) = _pooled_trials(
        world, designs, population_n, 1, _rng(seed, key, "population"), typical=True
    )
    return values, [compute(p.target, big, enrolled=n) for p in group]


def record(
    trial: str,
    target: Target,
    values: list[float],
    population: float,
    *,
    kind: str,
    n: int,
) -> dict[str, object]:
    """One row of the replication table."""
    median, low, high = stats.interval(np.asarray(values, dtype=float))
    inside = bool(np.isfinite(low) and low <= target.value <= high)
    return {
        "trial": trial,
        "kind": kind,
        "statistic": target.label,
        "published": target.value,
        "simulated_median": _clean(median),
        "low": _clean(low),
        "high": _clean(high),
        "population_value": _clean(population),
        "verified": target.verified,
        "tuned": target.tuned,
        "inside": inside,
        "n": n,
        "replications": int(np.isfinite(values).sum()),
    }


def _clean(x: float) -> float | None:
    return round(float(x), 4) if np.isfinite(x) else None
