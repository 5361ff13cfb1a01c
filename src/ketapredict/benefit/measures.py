"""Estimated individual benefit judged against the truth (PATH; van Klaveren et al. 2018)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import stats

from ketapredict.errors import DataError
from ketapredict.metrics.inputs import Array, check_outcome, check_proba
from ketapredict.metrics.resampling import percentile_interval

Measure = Callable[..., float]
_NAN = float("nan")


def _vectors(*arrays: Any) -> list[Array]:
    """The arrays as finite, non-empty 1-D floats of one length, or DataError."""
    out = [np.asarray(a, dtype=float) for a in arrays]
    shapes = {a.shape for a in out}
    if len(shapes) > 1 or any(a.ndim != 1 or a.size == 0 for a in out):
        raise DataError(f"expected non-empty 1-D arrays of one length, got {sorted(shapes)}")
    if not all(np.isfinite(a).all() for a in out):
        raise DataError("benefit measures need finite values")
    return out


def _observed(estimate: Any, treated: Any, y: Any) -> tuple[Array, Array, Array]:
    """Estimate, arm (True = treated) and response, validated."""
    estimate, treated, y = _vectors(estimate, check_outcome(treated), check_outcome(y))
    return estimate, treated == 1, y


def pehe(estimate: Array, truth: Array) -> float:
    """Precision in estimating heterogeneous effects: the root mean squared error of the
    estimated against the true benefit, in risk-difference units (0 is perfect)."""
    estimate, truth = _vectors(estimate, truth)
    return float(np.sqrt(np.mean((estimate - truth) ** 2)))


def benefit_spearman(estimate: Array, truth: Array) -> float:
    """Spearman rank correlation of estimated with true benefit, −1 to 1 (ties get average
    ranks); NaN if either is constant, as a rank correlation is then undefined."""
    estimate, truth = _vectors(estimate, truth)
    if np.ptp(estimate) == 0 or np.ptp(truth) == 0:
        return _NAN
    return float(stats.spearmanr(estimate, truth).statistic)


def calibration_for_benefit(estimate: Array, truth: Array) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line truth ≈ a + b · estimate, in
    risk-difference units: (0, 1) is perfect; b < 1 means the estimates spread too widely.
    (NaN, NaN) for a constant estimate, which leaves the slope undefined."""
    estimate, truth = _vectors(estimate, truth)
    if np.ptp(estimate) == 0:
        return _NAN, _NAN
    centred = estimate - estimate.mean()
    slope = centred @ (truth - truth.mean()) / (centred @ centred)
    return float(truth.mean() - slope * estimate.mean()), float(slope)


def _tied_pairs(values: Array) -> int:
    """The number of pairs of patients with equal `values`."""
    _, counts = np.unique(values, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def _harrell_c(score: Array, target: Array) -> float:
    """Harrell's C of `score` for `target` over all pairs, in O(n log n).

    Of the pairs untied in target, the share that score orders the same way, a tie in score
    counting 1/2. That is (1 + S / untied_target) / 2 — Somers' D rescaled — where S is
    Kendall's concordant minus discordant count. S is read back from scipy's tau-b,
    S / √(untied_score · untied_target), and rounded, as S is an integer: the result is exact.
    NaN when target is constant (no pair counts); 0.5 when score is constant.
    """
    n_pairs = score.size * (score.size - 1) // 2
    untied_target = n_pairs - _tied_pairs(target)
    if untied_target == 0:
        return _NAN
    untied_score = n_pairs - _tied_pairs(score)
    if untied_score == 0:
        return 0.5
    if score.size == 2:  # one pair, untied in both; scipy's p-value would divide by n − 2
        return 0.5 + float(np.sign(score[1] - score[0]) * np.sign(target[1] - target[0])) / 2
    tau = stats.kendalltau(score, target, method="asymptotic").statistic
    s = round(float(tau) * np.sqrt(untied_score) * np.sqrt(untied_target))
    return 0.5 + s / (2 * untied_target)


def c_for_benefit_true(estimate: Array, truth: Array) -> float:
    """Concordance of estimated with true benefit over all pairs of patients, 0 to 1.

    The probability that, of two patients whose true benefits differ, the one who benefits
    more has the higher estimate; tied estimates count 1/2, pairs tied in truth are left out
    (Harrell's C). 1 is a perfect ranking, 0.5 no better than chance, 0 exactly reversed.
    NaN when the true benefit is constant. O(n log n), see _harrell_c.
    """
    estimate, truth = _vectors(estimate, truth)
    return _harrell_c(estimate, truth)


def _own_pairs(treated: Array, groups: Any) -> tuple[Array, Array, Array]:
    """Crossover patients paired with themselves: their treated rows, their control rows (in
    patient order) and the rows of everyone else."""
    if groups is None:
        return np.array([], dtype=int), np.array([], dtype=int), np.arange(treated.size)
    groups = np.asarray(groups)
    if groups.shape != treated.shape:
        raise DataError(f"groups has shape {groups.shape}, the rows {treated.shape}")
    codes = np.unique(groups, return_inverse=True)[1]
    rows, arm_rows = np.bincount(codes), np.bincount(codes, weights=treated)
    own = ((rows == 2) & (arm_rows == 1))[codes]
    by_patient = [np.flatnonzero(own & (treated == arm)) for arm in (True, False)]
    own_t, own_c = (r[np.argsort(codes[r], kind="stable")] for r in by_patient)
    return own_t, own_c, np.flatnonzero(~own)


def _match(
    estimate: Array, treated: Array, rows: Array, rng: np.random.Generator
) -> tuple[Array, Array]:
    """Treated and control rows matched 1:1 on the rank of estimated benefit, after dropping
    random rows of the larger arm down to the smaller arm's size."""
    arms = [rows[treated[rows] == arm] for arm in (True, False)]
    size = min(a.size for a in arms)
    arms = [a if a.size == size else np.sort(rng.choice(a, size, replace=False)) for a in arms]
    matched_t, matched_c = (a[np.argsort(estimate[a], kind="stable")] for a in arms)
    return matched_t, matched_c


def c_for_benefit_observed(
    estimate: Array,
    treated: Array,
    y: Array,
    *,
    rng: np.random.Generator,
    groups: Array | None = None,
) -> float:
    """van Klaveren's c-for-benefit from observed outcomes, 0 to 1 (0.5 = chance).

    Treated and control patients are matched on estimated benefit: each arm is sorted by its
    estimate and paired by rank, after dropping random patients (`rng`) from the larger arm;
    tied estimates within an arm keep their row order. A pair's predicted benefit is the mean
    of its two estimates, its observed benefit y_treated − y_control ∈ {−1, 0, 1}. C is the
    concordance of predicted with observed benefit over pairs of pairs: pairs of pairs tied in
    observed benefit are left out, ties in predicted benefit count 1/2 (van Klaveren et al.,
    J Clin Epidemiol 2018;97:118). O(n log n).
    In a crossover trial a patient's own two rows are a natural pair, matched on everything:
    with `groups` (patient ids), each patient with exactly two rows, one per arm, is paired
    with themself (predicted benefit: the mean of their two estimates); the remaining rows
    are matched as above. NaN when no two pairs differ in observed benefit.
    """
    estimate, treated, y = _observed(estimate, treated, y)
    own_t, own_c, rest = _own_pairs(treated, groups)
    matched_t, matched_c = _match(estimate, treated, rest, rng)
    pair_t, pair_c = np.r_[own_t, matched_t], np.r_[own_c, matched_c]
    predicted = (estimate[pair_t] + estimate[pair_c]) / 2
    return _harrell_c(predicted, y[pair_t] - y[pair_c])


def qini_curve(estimate: Array, treated: Array, y: Array) -> tuple[Array, Array]:
    """The Qini curve (Radcliffe 2007): (fraction targeted, incremental responses per patient).

    Patients are targeted in order of decreasing estimate, tied estimates entering together
    as one block. After the top k: Q(k) = Y_t(k) − Y_c(k) · N_t(k) / N_c(k), the treated
    responders less the control responders scaled to the treated count (Y_c term 0 while no
    control patient is targeted), divided by the n of the whole sample. Both arrays start at 0
    and have one point per block; the last fraction is 1.
    """
    estimate, treated, y = _observed(estimate, treated, y)
    order = np.argsort(-estimate, kind="stable")
    ends = np.r_[np.flatnonzero(np.diff(estimate[order])), estimate.size - 1]
    t, y_sorted = treated[order], y[order]
    n_t = np.cumsum(t)[ends].astype(float)
    n_c = ends + 1 - n_t
    y_t, y_c = np.cumsum(y_sorted * t)[ends], np.cumsum(y_sorted * ~t)[ends]
    ratio = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c > 0)
    q = (y_t - y_c * ratio) / estimate.size
    return np.r_[0.0, (ends + 1) / estimate.size], np.r_[0.0, q]


def qini_area(estimate: Array, treated: Array, y: Array) -> float:
    """Signed area between the Qini curve and random targeting, the line from (0, 0) to
    (1, Q(1)), by the trapezoid rule; in incremental responses per patient (0 = no better than
    random, negative = worse). A constant estimate is one block, so its area is exactly 0."""
    fraction, q = qini_curve(estimate, treated, y)
    return float(np.trapezoid(q - fraction * q[-1], fraction))


def _truths(estimate: Any, truth_treated: Any, truth_control: Any) -> list[Array]:
    """Estimate and the true response probabilities under each arm, validated."""
    return _vectors(estimate, check_proba(truth_treated), check_proba(truth_control))


def _value(treat: Array, truth_treated: Array, truth_control: Array, threshold: float) -> float:
    """Net responses per 100 patients when those in `treat` are treated: each treated patient
    costs `threshold` responses (the harm, burden and cost the threshold stands for)."""
    return float(100 * np.mean(np.where(treat, truth_treated - threshold, truth_control)))


def _gain(treat: Array, truth_treated: Array, truth_control: Array, threshold: float) -> float:
    """`treat`'s value less the better of treating everyone and no one, per 100 patients."""
    everyone = np.ones(treat.size, dtype=bool)
    default = max(_value(a, truth_treated, truth_control, threshold) for a in (everyone, ~everyone))
    return _value(treat, truth_treated, truth_control, threshold) - default


def policy_value(
    estimate: Array, truth_treated: Array, truth_control: Array, threshold: float = 0.0
) -> float:
    """Net responses per 100 patients under "treat if estimate > threshold", the others
    getting the comparator, from each patient's true response probability in each arm; each
    treated patient counts `threshold` responses against (a threshold t says "worth treating
    only for a benefit above t"), as in a decision curve's net benefit. With that, the
    oracle's policy (treat iff true benefit > t) has the highest value at every t."""
    estimate, tt, tc = _truths(estimate, truth_treated, truth_control)
    return _value(estimate > threshold, tt, tc, threshold)


def policy_gain(
    estimate: Array, truth_treated: Array, truth_control: Array, threshold: float = 0.0
) -> float:
    """policy_value less the better of treat-all and treat-none, per 100 patients: what
    targeting adds to the best blanket policy (negative if it loses)."""
    estimate, tt, tc = _truths(estimate, truth_treated, truth_control)
    return _gain(estimate > threshold, tt, tc, threshold)


def regret(
    estimate: Array, truth_treated: Array, truth_control: Array, threshold: float = 0.0
) -> float:
    """The oracle's policy_value (treat iff true benefit > threshold) less the estimate's, per
    100 patients: 0 for the oracle's decisions, never negative."""
    estimate, tt, tc = _truths(estimate, truth_treated, truth_control)
    oracle = _value(tt - tc > threshold, tt, tc, threshold)
    return oracle - _value(estimate > threshold, tt, tc, threshold)


def share_of_oracle_gain(
    estimate: Array, truth_treated: Array, truth_control: Array, threshold: float = 0.0
) -> float:
    """policy_gain as a share of the oracle's policy_gain: 1 is as good as the oracle, 0 no
    better than the best blanket policy. NaN when the oracle gains nothing (its gain ≤ 0,
    e.g. when every true benefit has the same sign)."""
    estimate, tt, tc = _truths(estimate, truth_treated, truth_control)
    oracle = _gain(tt - tc > threshold, tt, tc, threshold)
    return _gain(estimate > threshold, tt, tc, threshold) / oracle if oracle > 0 else _NAN


def _patients(n: int, groups: Any) -> Array:
    """Each row's patient number 0..P−1 (every row its own patient without `groups`)."""
    if groups is None:
        return np.arange(n)
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise DataError(f"groups has shape {groups.shape}, the arrays {n} rows")
    return np.unique(groups, return_inverse=True)[1]


def _sampler(patients: Array) -> Callable[[np.random.Generator], tuple[Array, Array]]:
    """A function drawing one bootstrap resample of patients with replacement: the rows drawn
    (a patient's rows together) and each row's patient in the resample, a patient drawn
    twice being two patients."""
    order = np.argsort(patients, kind="stable")
    sizes = np.bincount(patients)
    starts = np.cumsum(sizes) - sizes

    def draw(rng: np.random.Generator) -> tuple[Array, Array]:
        picked = rng.integers(0, sizes.size, sizes.size)
        counts = sizes[picked]
        ids = np.repeat(np.arange(picked.size), counts)
        within = np.arange(ids.size) - (np.cumsum(counts) - counts)[ids]
        return order[starts[picked][ids] + within], ids

    return draw


def _caller(measure: Measure, grouped: bool) -> Callable[..., float]:
    """measure(**arrays[rows]), passed a Generator seeded with `seed` if it takes `rng` and the
    resample's patient ids if it takes `groups` (and groups were given)."""
    params = inspect.signature(measure).parameters
    takes_rng, takes_groups = "rng" in params, grouped and "groups" in params

    def call(arrays: Mapping[str, Array], rows: Array, ids: Array, seed: int) -> float:
        kwargs: dict[str, Any] = {name: a[rows] for name, a in arrays.items()}
        if takes_rng:
            kwargs["rng"] = np.random.default_rng(seed)
        if takes_groups:
            kwargs["groups"] = ids
        return float(measure(**kwargs))

    return call


def _replicates(
    measure: Measure,
    arrays: list[Mapping[str, Any]],
    *,
    rng: np.random.Generator,
    n_resamples: int,
    groups: Any,
) -> Array:
    """`measure` on each dict of arrays, for the full data (column 0) and `n_resamples`
    resamples of patients, shape (len(arrays), 1 + n_resamples). In each resample every dict
    gets the same rows and an identically seeded rng, so differences are paired."""
    arrays = [{name: np.asarray(a) for name, a in d.items()} for d in arrays]
    lengths = {len(a) for d in arrays for a in d.values()}
    if len(lengths) != 1:
        raise DataError(f"the arrays must all have one length (one row each), got {lengths}")
    patients = _patients(lengths.pop(), groups)
    draw, call = _sampler(patients), _caller(measure, groups is not None)
    out = np.empty((len(arrays), n_resamples + 1))
    for b in range(n_resamples + 1):
        rows, ids = (np.arange(patients.size), patients) if b == 0 else draw(rng)
        seed = int(rng.integers(2**63))
        out[:, b] = [call(d, rows, ids, seed) for d in arrays]
    return out


def bootstrap(
    measure: Measure,
    arrays: Mapping[str, Array],
    *,
    rng: np.random.Generator,
    n_resamples: int = 1000,
    level: float = 0.95,
    groups: Array | None = None,
) -> tuple[float, float, float]:
    """(estimate, low, high): measure(**arrays) with its percentile bootstrap interval.

    Resamples draw patients with replacement; with `groups` (patient ids, one per row) a
    patient's rows are drawn together, as a crossover patient is one unit of information.
    A measure taking `rng` gets a fresh Generator seeded from `rng`; one taking `groups` gets
    the resample's patient ids (a patient drawn twice counts as two), so do not put groups in
    `arrays`. Resamples where the measure is NaN are left out of the interval.
    """
    draws = _replicates(measure, [arrays], rng=rng, n_resamples=n_resamples, groups=groups)[0]
    return percentile_interval(draws[0], draws[1:], level)


def paired_difference(
    measure: Measure,
    arrays_a: Mapping[str, Array],
    arrays_b: Mapping[str, Array],
    *,
    rng: np.random.Generator,
    n_resamples: int = 1000,
    level: float = 0.95,
    groups: Array | None = None,
) -> tuple[float, float, float]:
    """(difference, low, high) of measure(**arrays_a) − measure(**arrays_b) on the same
    patients, each resample scoring both on the same rows with identically seeded rngs (so a
    measure against itself gives exactly (0, 0, 0)); otherwise as bootstrap."""
    a, b = _replicates(
        measure, [arrays_a, arrays_b], rng=rng, n_resamples=n_resamples, groups=groups
    )
    return percentile_interval(a[0] - b[0], a[1:] - b[1:], level)
