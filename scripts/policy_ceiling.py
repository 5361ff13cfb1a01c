"""What share of the oracle's policy gain an estimate of a given accuracy can reach: the true
benefit of the held-out patients plus Gaussian noise (unbiased, so no learner's bias), at
several noise sizes, each over 50 seeded draws. Run after `dvc repro` (it reads
data/features/benefit.parquet):

    .venv/bin/python scripts/policy_ceiling.py [--threshold 0.2]

Prints, per noise SD (which is then the PEHE), the mean Spearman with the truth and the mean
share of the oracle's gain of "treat if estimate > threshold" — the yardstick for the
benefit learners' figures in reports/benefit/metrics.json."""

from __future__ import annotations

import argparse

import numpy as np

from ketapredict.benefit import measures as m
from ketapredict.benefit.patients import per_patient
from ketapredict.io import read_parquet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.2)
    parser.add_argument("--table", default="data/features/benefit.parquet")
    args = parser.parse_args()
    table = read_parquet(args.table)
    people = per_patient(table[table["split"] == "test"].reset_index(drop=True))
    tt, tc = people["p_true_treated"].to_numpy(), people["p_true_control"].to_numpy()
    tau = tt - tc
    print(f"{len(tau)} held-out patients; true benefit mean {tau.mean():.3f}, SD {tau.std():.3f}")
    rng = np.random.default_rng(0)
    for sd in (0.02, 0.03, 0.05, 0.07, 0.10, 0.13):
        draws = np.array([_one(tau, tt, tc, sd, rng, args.threshold) for _ in range(50)])
        spearman, share = draws.mean(axis=0)
        print(f"noise SD (PEHE) {sd:.2f}: Spearman {spearman:.2f}, oracle gain share {share:.2f}")


def _one(tau, tt, tc, sd, rng, threshold) -> tuple[float, float]:
    estimate = tau + rng.normal(0.0, sd, len(tau))
    return m.benefit_spearman(estimate, tau), m.share_of_oracle_gain(estimate, tt, tc, threshold)


if __name__ == "__main__":
    main()
