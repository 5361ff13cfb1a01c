"""Trial headline statistics, computed the way the published papers computed them."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ketapredict.survival import KaplanMeier, kaplan_meier

_MAX_ITER = 50
_MAX_HALVINGS = 30
_STEP_TOL = 1e-9

FloatArray = NDArray[np.float64]


def _observed(*arrays: ArrayLike) -> list[FloatArray]:
    """Same-length 1-D float arrays, keeping only rows observed (not NaN) in every one."""
    cols = [np.asarray(a, dtype=float) for a in arrays]
    if any(c.ndim != 1 for c in cols) or len({c.size for c in cols}) > 1:
        raise ValueError("inputs must be 1-D arrays of equal length")
    keep = ~np.isnan(cols[0])
    for c in cols[1:]:
        keep &= ~np.isnan(c)
    return [c[keep] for c in cols]


def _require_binary(x: FloatArray, name: str) -> None:
    if not np.all((x == 0.0) | (x == 1.0)):
        raise ValueError(f"{name} must hold only 0, 1 or NaN")


def proportion(x: ArrayLike) -> float:
    """Share of 1s among observed 0/1 values (NaN = not observed); NaN if none observed."""
    (x,) = _observed(x)
    _require_binary(x, "x")
    return float(x.mean()) if x.size else np.nan


def mean(x: ArrayLike) -> float:
    """Mean of the observed values (NaN ignored); NaN if none observed."""
    (x,) = _observed(x)
    return float(x.mean()) if x.size else np.nan


def sd(x: ArrayLike) -> float:
    """Sample standard deviation (ddof=1) of the observed values; NaN if fewer than two."""
    (x,) = _observed(x)
    return float(x.std(ddof=1)) if x.size >= 2 else np.nan


def _km(time: ArrayLike, event: ArrayLike) -> tuple[KaplanMeier, int]:
    """The Kaplan–Meier curve of the pairs observed in both, and how many there are."""
    time, event = _observed(time, event)
    _require_binary(event, "event")
    return kaplan_meier(time, event), time.size


def km_survival(time: ArrayLike, event: ArrayLike, at: float) -> float:
    """Kaplan–Meier S(at), as papers read "x% event-free at week k" off the curve.

    Right-continuous: events at exactly `at` have already happened. Pairs with a NaN time or
    event are dropped; NaN if no pair is left or `at` is NaN. Beyond the last observed time the
    last value is carried forward (as lifelines does).
    """
    curve, n = _km(time, event)
    if n == 0 or np.isnan(at):
        return np.nan
    return curve.at(at)


def km_median(time: ArrayLike, event: ArrayLike) -> float:
    """Kaplan–Meier median: the smallest time t with S(t) <= 0.5; NaN if never reached.

    This is lifelines' `median_survival_time_` convention (which returns inf when not reached),
    not R/SAS's midpoint rule when S sits exactly on 0.5. NaN pairs are dropped.
    """
    return _km(time, event)[0].median()


def _cox_rows(
    time: FloatArray, event: FloatArray, group: FloatArray, ties: str
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-term weights and group-0 / group-1 risk-set sizes of the partial likelihood.

    With one binary covariate each risk-set denominator is a0 + a1 * exp(beta), so the whole
    fit reduces to a few vectors. Efron splits a tie of d deaths into d terms whose risk sets
    lose the fraction l/d (l = 0..d-1) of the tied deaths; Breslow keeps one term of weight d.
    """
    died = event == 1.0
    event_times, inverse = np.unique(time[died], return_inverse=True)
    deaths = np.bincount(inverse).astype(float)
    deaths1 = np.bincount(inverse, weights=group[died])
    t1, t0 = np.sort(time[group == 1.0]), np.sort(time[group == 0.0])
    n1 = t1.size - np.searchsorted(t1, event_times, side="left")
    n0 = t0.size - np.searchsorted(t0, event_times, side="left")
    if ties == "breslow":
        return deaths, n0.astype(float), n1.astype(float)
    counts = deaths.astype(int)
    term = np.repeat(np.arange(counts.size), counts)
    frac = (np.arange(term.size) - np.repeat(np.cumsum(counts) - counts, counts)) / counts[term]
    a0 = n0[term] - frac * (deaths - deaths1)[term]
    a1 = n1[term] - frac * deaths1[term]
    return np.ones(term.size), a0, a1


def _cox_terms(
    beta: float, events1: float, w: FloatArray, a0: FloatArray, a1: FloatArray
) -> tuple[float, float, float]:
    """Log partial likelihood, score and information at `beta`."""
    r1 = a1 * np.exp(beta)
    denom = a0 + r1
    p = r1 / denom
    loglik = events1 * beta - float(w @ np.log(denom))
    return loglik, events1 - float(w @ p), float(w @ (p * (1.0 - p)))


def cox_hazard_ratio(
    time: ArrayLike,
    event: ArrayLike,
    group: ArrayLike,
    *,
    ties: Literal["efron", "breslow"] = "efron",
) -> float:
    """Cox proportional-hazards hazard ratio exp(beta) of group 1 vs group 0.

    The usual headline of a time-to-relapse trial. Fitted by Newton–Raphson with step halving
    on the partial likelihood; Efron ties by default (lifelines, R), Breslow for SAS/Stata-style
    papers. Rows with any NaN are dropped. NaN if a group is empty or has no events, or if the
    fit does not converge within 50 iterations (e.g. monotone likelihood: no finite estimate).
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', not {ties!r}")
    time, event, group = _observed(time, event, group)
    _require_binary(event, "event")
    _require_binary(group, "group")
    events1 = float(event @ group)
    if events1 == 0.0 or events1 == event.sum():
        return np.nan
    w, a0, a1 = _cox_rows(time, event, group, ties)
    beta = 0.0
    loglik, score, info = _cox_terms(beta, events1, w, a0, a1)
    for _ in range(_MAX_ITER):
        if not info > 0.0:
            return np.nan
        step = score / info
        for _ in range(_MAX_HALVINGS):
            new = _cox_terms(beta + step, events1, w, a0, a1)
            if new[0] >= loglik - 1e-12 * abs(loglik):
                break
            step /= 2.0
        beta += step
        loglik, score, info = new
        if abs(step) < _STEP_TOL:
            return float(np.exp(beta))
    return np.nan


def odds_ratio(y: ArrayLike, group: ArrayLike) -> float:
    """Odds ratio of y = 1 in group 1 vs group 0 from the 2x2 table.

    When any cell is zero, 0.5 is added to every cell (Haldane–Anscombe), as papers do to
    report a finite OR. Rows with any NaN are dropped; NaN if either group is empty.
    """
    y, group = _observed(y, group)
    _require_binary(y, "y")
    _require_binary(group, "group")
    n1, n = group.sum(), group.size
    if n1 == 0 or n1 == n:
        return np.nan
    a = float(y @ group)  # group 1, y = 1
    c = float(y.sum()) - a  # group 0, y = 1
    cells = np.array([a, n1 - a, c, n - n1 - c])
    if np.any(cells == 0.0):
        cells += 0.5
    return float(cells[0] * cells[3] / (cells[1] * cells[2]))


def ancova_difference(y: ArrayLike, group: ArrayLike, baseline: ArrayLike) -> float:
    """Baseline-adjusted group difference: OLS coefficient of group in y ~ 1 + group + baseline.

    The "adjusted mean difference" of change-score trials. Solved in closed form after
    centring (Frisch–Waugh). Rows with any NaN are dropped; NaN if the coefficient is not
    estimable (fewer than 3 rows, a group empty, or group collinear with baseline).
    """
    y, group, baseline = _observed(y, group, baseline)
    _require_binary(group, "group")
    if y.size < 3:
        return np.nan
    g, b, yc = group - group.mean(), baseline - baseline.mean(), y - y.mean()
    sgg, sbb, sgb = g @ g, b @ b, g @ b
    det = sgg * sbb - sgb * sgb
    if not det > 1e-12 * sgg * sbb:
        return np.nan
    return float((sbb * (g @ yc) - sgb * (b @ yc)) / det)


def paired_difference(a: ArrayLike, b: ArrayLike) -> float:
    """Mean within-patient difference a - b over pairs with both observed (crossover trials).

    NaN if no complete pair.
    """
    a, b = _observed(a, b)
    return float((a - b).mean()) if a.size else np.nan


def interval(values: ArrayLike, *, level: float = 0.95) -> tuple[float, float, float]:
    """(median, low, high) percentiles of a statistic over replications, NaN ignored.

    For level 0.95 low/high are the 2.5th/97.5th percentiles (numpy's linear interpolation).
    All-NaN or empty input gives three NaNs.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), not {level}")
    (values,) = _observed(values)
    if not values.size:
        return (np.nan, np.nan, np.nan)
    tail = 50.0 * (1.0 - level)
    mid, low, high = np.percentile(values, [50.0, tail, 100.0 - tail])
    return (float(mid), float(low), float(high))
