"""Time each treatment-benefit learner on one core: a fit on a simulated randomized trial
(default 6,000 patients, half of them crossover: ~9,000 rows, 30 characteristics, 5 % missing)
and its cross-fitted estimates on 5 folds. Target: all learners together under 90 s."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from ketapredict.benefit.learners import (
    LEARNERS,
    BenefitData,
    cross_fitted_effect,
    fit_learner,
)


def simulate(patients: int, features: int, seed: int) -> tuple[BenefitData, np.ndarray]:
    """A two-arm trial whose true benefit is 0.3 where x0 > 0 (else 0), on a baseline risk
    driven by x1 and x2; half the patients cross over (one row per arm)."""
    rng = np.random.default_rng(seed)
    Xp = rng.normal(size=(patients, features))
    crossover = rng.random(patients) < 0.5
    first = rng.integers(0, 2, patients)
    groups = np.concatenate([np.arange(patients), np.flatnonzero(crossover)])
    treated = np.concatenate([first, 1 - first[crossover]])
    X = Xp[groups]
    base = 0.6 / (1 + np.exp(-(X[:, 1] - 0.5 * X[:, 2])))
    truth = 0.3 * (X[:, 0] > 0)
    y = (rng.random(len(groups)) < base + treated * truth).astype(float)
    X[rng.random(X.shape) < 0.05] = np.nan
    names = [f"x{i}" for i in range(features)]
    return BenefitData(X, treated.astype(float), y, groups, names), truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=6_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--learners", nargs="*", default=list(LEARNERS))
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    data, truth = simulate(args.patients, args.features, seed=0)
    learners = {}
    with threadpool_limits(1):
        for name in args.learners:
            start = time.perf_counter()
            fitted = fit_learner(name, data, seed=1)
            fit_seconds = time.perf_counter() - start
            start = time.perf_counter()
            oof = cross_fitted_effect(name, data, folds=args.folds, seed=1)
            cross_seconds = time.perf_counter() - start
            learners[name] = {
                "fit_seconds": round(fit_seconds, 2),
                "cross_fitted_seconds": round(cross_seconds, 2),
                "effect_seconds_per_1000_rows": round(_effect_seconds(fitted, data), 3),
                "oof_spearman_with_truth": round(float(stats.spearmanr(oof, truth)[0]), 3),
            }
    total = sum(v["fit_seconds"] + v["cross_fitted_seconds"] for v in learners.values())
    result = {
        "benchmark": "benefit_learners",
        "rows": len(data.y),
        "patients": args.patients,
        "features": args.features,
        "folds": args.folds,
        "cores": 1,
        "learners": learners,
        "total_seconds": round(total, 1),
        "targets": {"total_seconds": 90},
    }
    json.dump(result, sys.stdout, indent=2)
    print()


def _effect_seconds(fitted: object, data: BenefitData) -> float:
    start = time.perf_counter()
    fitted.effect(data.X)
    return (time.perf_counter() - start) * 1000 / len(data.y)


if __name__ == "__main__":
    main()
