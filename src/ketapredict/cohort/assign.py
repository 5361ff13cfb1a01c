"""Treatment assignment: who gets which arm in which period, by the design's allocation."""

from __future__ import annotations

import numpy as np

from ketapredict.cohort.effects import EffectModel
from ketapredict.cohort.specs import TrialSpec


def exact_allocation(shares: list[float], n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices 0..k-1 in the exact proportions of `shares` (largest remainder), shuffled:
    what permuted-block randomization gives at the end of enrolment."""
    shares_arr = np.asarray(shares, dtype=np.float64) / sum(shares)
    counts = np.floor(shares_arr * n).astype(int)
    remainder = shares_arr * n - counts
    for i in np.argsort(-remainder, kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


def blocked_allocation(
    shares: list[float], blocks: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Exact allocation within each block (one simulated trial per block), blocks sorted."""
    out = np.empty(len(blocks), dtype=int)
    bounds = np.flatnonzero(np.diff(blocks)) + 1
    for part in np.split(np.arange(len(blocks)), bounds):
        out[part] = exact_allocation(shares, len(part), rng)
    return out


def assign_arms(spec: TrialSpec, blocks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(n, periods) matrix of arm indices into spec.arms; allocation is exact in each block."""
    index = {a.name: i for i, a in enumerate(spec.arms)}
    n = len(blocks)
    if spec.design == "parallel":
        return blocked_allocation([a.allocation for a in spec.arms], blocks, rng)[:, None]
    if spec.design == "crossover":
        seq = blocked_allocation([s.allocation for s in spec.sequences], blocks, rng)
        table = np.array([[index[a] for a in s.arms] for s in spec.sequences])
        return table[seq]
    return np.zeros((n, 1), dtype=int)


def reference_arms(spec: TrialSpec, model: EffectModel) -> tuple[str, str | None]:
    """The design's active arm and its comparator (None: no concurrent control), for the truth."""
    active = [a.name for a in spec.arms if model.drugs[a.drug].active]
    if not active:
        raise ValueError(f"trial {spec.name!r} has no active (ketamine or esketamine) arm")
    if spec.design == "randomized_withdrawal":
        return active[0], None
    inactive = (a.name for a in spec.arms if not model.drugs[a.drug].active)
    return active[0], spec.control or next(inactive, None)
