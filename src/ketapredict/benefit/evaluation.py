"""Benefit estimates judged against the truth on held-out patients: accuracy (PEHE,
calibration for benefit), ranking (Spearman, c-for-benefit true and as a trial observes it,
Qini) and use (the policy "give ketamine if estimated benefit > t" in responses per 100
patients, its regret against the oracle policy), each with a patient bootstrap interval, and
paired differences between learners on the same resamples."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ketapredict.benefit import measures as m
from ketapredict.contract import ID
from ketapredict.parallel import map_ordered

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


@dataclass(frozen=True)
class _Context:
    """What every measure of every candidate reads (picklable: jobs run in processes)."""

    candidates: dict[str, np.ndarray]  # per patient: estimates, and the oracle's truth
    policy_score: dict[str, np.ndarray]  # what "treat if > threshold" is applied to
    truth: np.ndarray
    p1: np.ndarray
    p0: np.ndarray
    at: np.ndarray  # each test row's patient
    treated: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    threshold: float


Measures = dict[str, tuple[Callable[..., float], dict[str, Any], Any]]


def evaluate(
    people: pd.DataFrame,
    rows: pd.DataFrame,
    estimates: dict[str, np.ndarray],
    *,
    best: str,
    threshold: float,
    seed: int,
    resamples: int,
    workers: int = 1,
) -> BenefitEvaluation:
    """Every learner's estimates (per patient, aligned with `people`, one row per test patient
    with the truth) and the oracle's (the true benefit). `rows` are the test rows (treated, y)
    for the measures a trial could compute. `best`: the learner the others are paired with;
    the naive score's policy treats as many patients as `best`'s does. Each candidate's
    bootstrap is seeded from (seed, its name), so results do not depend on `workers`."""
    truth = people["benefit_true"].to_numpy()
    share = float(np.mean(estimates[best] > threshold)) if best in estimates else 0.5
    policy_score = {**estimates, ORACLE: truth}
    for name in RANK_ONLY:
        if name in estimates:
            policy_score[name] = _treat_same_share(estimates[name], share)
    ctx = _Context(
        candidates={**estimates, ORACLE: truth},
        policy_score=policy_score,
        truth=truth,
        p1=people["p_true_treated"].to_numpy(),
        p0=people["p_true_control"].to_numpy(),
        at=pd.Index(people[ID]).get_indexer(rows[ID]),
        treated=rows["treated"].to_numpy(),
        y=rows["y"].to_numpy(),
        groups=rows[ID].to_numpy(),
        threshold=threshold,
    )
    names = list(ctx.candidates)
    others = [n for n in names if n not in (best, ORACLE)]
    jobs = [("summary", ctx, n, best, seed, resamples) for n in names]
    jobs += [("paired", ctx, n, best, seed, resamples) for n in others]
    results = map_ordered(_job, jobs, workers=workers, progress="benefit: bootstrap measures")
    summary = dict(zip(names, results[: len(names)], strict=True))
    paired = {f"{n}_minus_{best}": r for n, r in zip(others, results[len(names) :], strict=True)}
    return BenefitEvaluation(summary, paired, _curves(people, rows, estimates, ctx.at, threshold))


def _job(kind: str, ctx: _Context, name: str, best: str, seed: int, resamples: int):
    rng = np.random.default_rng([seed, zlib.crc32(f"{kind}:{name}".encode())])
    if kind == "paired":
        return _paired(ctx, name, best, rng, resamples)
    row: dict[str, float] = {}
    for key, (fn, arrays, grouped) in _measures(ctx, name).items():
        est, low, high = m.bootstrap(fn, arrays, rng=rng, n_resamples=resamples, groups=grouped)
        row.update({key: est, f"{key}_low": low, f"{key}_high": high})
    row["share_treated"] = float(np.mean(ctx.policy_score[name] > ctx.threshold))
    return row


def _measures(ctx: _Context, name: str) -> Measures:
    """Each measure of candidate `name`: its function, its arrays, and the rows' patients
    when whole patients must be resampled together."""
    e, t = ctx.candidates[name], ctx.threshold
    person = {"estimate": e, "truth": ctx.truth}
    policy = {"estimate": ctx.policy_score[name], "truth_treated": ctx.p1, "truth_control": ctx.p0}
    trial = {"estimate": e[ctx.at], "treated": ctx.treated, "y": ctx.y}
    out: Measures = {
        "spearman": (m.benefit_spearman, person, None),
        "c_for_benefit": (m.c_for_benefit_true, person, None),
        "c_for_benefit_observed": (m.c_for_benefit_observed, trial, ctx.groups),
        "qini_area": (m.qini_area, trial, ctx.groups),
        "policy_value": (_threshold(m.policy_value, t), policy, None),
        "policy_gain": (_threshold(m.policy_gain, t), policy, None),
        "regret": (_threshold(m.regret, t), policy, None),
    }
    if name != ORACLE:
        out["share_of_oracle_gain"] = (_threshold(m.share_of_oracle_gain, t), policy, None)
    if name not in RANK_ONLY:
        out["pehe"] = (m.pehe, person, None)
        out["calibration_intercept"] = (_calibration(0), person, None)
        out["calibration_slope"] = (_calibration(1), person, None)
    return out


def _paired(ctx: _Context, name: str, best: str, rng, resamples: int) -> dict[str, float]:
    """`name` minus `best` on policy value, Qini area, c-for-benefit and Spearman, on the same
    bootstrap resamples (paired)."""
    base, other, row = _measures(ctx, best), _measures(ctx, name), {}
    for key in ("policy_value", "qini_area", "c_for_benefit", "spearman"):
        fn, arrays_b, grouped = base[key]
        diff, low, high = m.paired_difference(
            fn, other[key][1], arrays_b, rng=rng, n_resamples=resamples, groups=grouped
        )
        row.update({key: diff, f"{key}_low": low, f"{key}_high": high})
    return row


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
