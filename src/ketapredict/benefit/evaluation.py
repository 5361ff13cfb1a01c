"""Benefit estimates judged against the truth on held-out patients: accuracy (PEHE,
calibration for benefit), ranking (Spearman, c-for-benefit true and as a trial observes it,
Qini) and use (the policy "give ketamine if estimated benefit > t" in responses per 100
patients, its regret against the oracle policy), each with a patient bootstrap interval, and
paired differences between learners on the same resamples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ketapredict.benefit import measures as m
from ketapredict.contract import ID

ORACLE = "oracle"
NAIVE = "prognostic"  # the learner whose output ranks by response, not benefit
RANK_ONLY = (NAIVE,)  # their estimate is not a risk difference: rank measures only


@dataclass
class BenefitEvaluation:
    summary: dict[str, dict[str, float]]  # learner -> measure (with _low/_high)
    paired: dict[str, dict[str, float]]
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)


def _treat_same_share(score: np.ndarray, share: float) -> np.ndarray:
    """A ranking score turned into 'treat the top `share`': +1 for those treated, -1 else."""
    k = round(share * len(score))
    order = np.argsort(-score, kind="stable")
    out = -np.ones(len(score))
    out[order[:k]] = 1.0
    return out


def evaluate(
    people: pd.DataFrame,
    rows: pd.DataFrame,
    estimates: dict[str, np.ndarray],
    *,
    best: str,
    threshold: float,
    rng: np.random.Generator,
    resamples: int,
) -> BenefitEvaluation:
    """Every learner's estimates (per patient, aligned with `people`, one row per test patient
    with the truth) and the oracle's (the true benefit). `rows` are the test rows (treated, y)
    for the measures a trial could compute. `best`: the learner the naive score is paired
    with; the naive score's policy treats as many patients as `best`'s does."""
    truth = people["benefit_true"].to_numpy()
    p1, p0 = people["p_true_treated"].to_numpy(), people["p_true_control"].to_numpy()
    at = pd.Index(people[ID]).get_indexer(rows[ID])
    treated, y, groups = rows["treated"].to_numpy(), rows["y"].to_numpy(), rows[ID].to_numpy()
    shares = {name: float(np.mean(e > threshold)) for name, e in estimates.items()}
    policy_score = dict(estimates)
    for name in RANK_ONLY:
        if name in estimates:
            policy_score[name] = _treat_same_share(estimates[name], shares.get(best, 0.5))
    candidates = {**estimates, ORACLE: truth}
    policy_score[ORACLE] = truth

    def measures(name: str) -> dict[str, tuple[Callable[..., float], dict[str, Any], Any]]:
        e, score = candidates[name], policy_score[name]
        person = {"estimate": e, "truth": truth}
        policy = {"estimate": score, "truth_treated": p1, "truth_control": p0}
        trial = {"estimate": e[at], "treated": treated, "y": y}
        out: dict[str, tuple[Callable[..., float], dict[str, Any], Any]] = {
            "spearman": (m.benefit_spearman, person, None),
            "c_for_benefit": (m.c_for_benefit_true, person, None),
            "c_for_benefit_observed": (m.c_for_benefit_observed, trial, groups),
            "qini_area": (m.qini_area, trial, groups),
            "policy_value": (_threshold(m.policy_value, threshold), policy, None),
            "policy_gain": (_threshold(m.policy_gain, threshold), policy, None),
            "regret": (_threshold(m.regret, threshold), policy, None),
        }
        if name not in RANK_ONLY:
            out["pehe"] = (m.pehe, person, None)
            out["calibration_intercept"] = (_calibration(0), person, None)
            out["calibration_slope"] = (_calibration(1), person, None)
        return out

    summary: dict[str, dict[str, float]] = {}
    for name in candidates:
        row: dict[str, float] = {}
        for key, (fn, arrays, grouped) in measures(name).items():
            est, low, high = m.bootstrap(fn, arrays, rng=rng, n_resamples=resamples, groups=grouped)
            row.update({key: est, f"{key}_low": low, f"{key}_high": high})
        row["share_treated"] = float(np.mean(policy_score[name] > threshold))
        summary[name] = row
    summary[ORACLE]["oracle_share_of_gain"] = 1.0
    paired = _paired(candidates, measures, best, rng, resamples)
    for name in estimates:
        gain = summary[name]["policy_gain"]
        oracle_gain = summary[ORACLE]["policy_gain"]
        summary[name]["share_of_oracle_gain"] = gain / oracle_gain if oracle_gain > 0 else np.nan
    return BenefitEvaluation(summary, paired, _curves(people, rows, estimates, at, threshold))


def _paired(candidates, measures, best, rng, resamples) -> dict[str, dict[str, float]]:
    """Each other learner minus `best` on policy value, Qini area and c-for-benefit, on the
    same bootstrap resamples (paired)."""
    out: dict[str, dict[str, float]] = {}
    base = measures(best)
    for name in candidates:
        if name in (best, ORACLE):
            continue
        other, row = measures(name), {}
        for key in ("policy_value", "qini_area", "c_for_benefit", "spearman"):
            fn, arrays_b, grouped = base[key]
            _, arrays_a, _ = other[key]
            diff, low, high = m.paired_difference(
                fn, arrays_a, arrays_b, rng=rng, n_resamples=resamples, groups=grouped
            )
            row.update({key: diff, f"{key}_low": low, f"{key}_high": high})
        out[f"{name}_minus_{best}"] = row
    return out


def _threshold(fn: Callable[..., float], threshold: float) -> Callable[..., float]:
    def at(estimate, truth_treated, truth_control) -> float:
        return fn(estimate, truth_treated, truth_control, threshold=threshold)

    at.__name__ = fn.__name__
    return at


def _calibration(which: int) -> Callable[..., float]:
    def part(estimate, truth) -> float:
        return m.calibration_for_benefit(estimate, truth)[which]

    return part


def _curves(
    people: pd.DataFrame,
    rows: pd.DataFrame,
    estimates: dict[str, np.ndarray],
    at: np.ndarray,
    threshold: float,
) -> dict[str, pd.DataFrame]:
    """Qini curves (observed, test rows), calibration for benefit (tenths of the estimate:
    mean estimate vs mean true benefit) and policy value over thresholds, per learner."""
    truth = people["benefit_true"].to_numpy()
    p1, p0 = people["p_true_treated"].to_numpy(), people["p_true_control"].to_numpy()
    qini, calibration, policy = [], [], []
    ts = np.round(np.arange(-0.2, 0.61, 0.02), 2)
    for name, e in {**estimates, ORACLE: truth}.items():
        share, gain = m.qini_curve(e[at], rows["treated"].to_numpy(), rows["y"].to_numpy())
        qini.append(pd.DataFrame({"learner": name, "share_targeted": share, "qini": gain}))
        value = [m.policy_value(e, p1, p0, threshold=t) for t in ts]
        policy.append(pd.DataFrame({"learner": name, "threshold": ts, "policy_value": value}))
        if name in RANK_ONLY:
            continue
        tenth = pd.qcut(pd.Series(e).rank(method="first"), 10, labels=False)
        binned = pd.DataFrame({"estimate": e, "truth": truth}).groupby(tenth).mean()
        calibration.append(binned.assign(learner=name).reset_index(drop=True))
    return {
        "qini": pd.concat(qini, ignore_index=True),
        "calibration_for_benefit": pd.concat(calibration, ignore_index=True),
        "policy_value": pd.concat(policy, ignore_index=True),
    }
