"""Treatment assignment: who gets which arm in which period, by the design's allocation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketapredict.cohort.specs import Arm, TrialSpec


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


def assign_maintenance(
    spec: TrialSpec, arm: Arm, course: pd.DataFrame, blocks: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Continuation after the course: randomized (withdrawal designs) or planned (arm spec)."""
    n = len(course)
    interval = np.full(n, np.inf)
    withdrawal_arm = np.full(n, "", dtype=object)
    if spec.withdrawal is not None and arm.name == spec.arms[0].name:
        eligible = course["withdrawal_eligible"].to_numpy() == 1
        shares = [spec.arm(name).allocation for name in spec.withdrawal.arms]
        pick = blocked_allocation(shares, blocks[eligible], rng)
        chosen = [spec.arm(spec.withdrawal.arms[k]) for k in pick]
        withdrawal_arm[eligible] = [c.name for c in chosen]
        interval[eligible] = [
            c.maintenance.interval_days if c.maintenance and c.drug != "placebo_spray" else np.inf
            for c in chosen
        ]
    elif arm.maintenance is not None:
        planned = rng.random(n) < arm.maintenance.probability
        interval[planned] = arm.maintenance.interval_days
    per_month = np.where(np.isfinite(interval), 30.4 / interval, 0.0)
    return pd.DataFrame(
        {
            "withdrawal_arm": withdrawal_arm,
            "maintenance_per_month": np.round(per_month, 3),
            "on_maintenance": (per_month > 0).astype(np.float64),
        }
    )
