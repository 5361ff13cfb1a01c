"""From the benefit table's rows (one per patient and period) to one row per patient: what a
benefit estimate is judged on, and the observed contrast an honest model choice can use."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketapredict.contract import ID


def per_patient(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per patient, in order of first appearance: their characteristics as at the
    start of a course (period2 = after_active = 0, as a new patient is scored), the truth,
    and `contrast`, an unbiased observation of their benefit (see `observed_contrast`)."""
    first = frame.drop_duplicates(ID).reset_index(drop=True)
    first = first.assign(period2=0.0, after_active=0.0)
    contrast = observed_contrast(frame)
    return first.assign(contrast=first[ID].map(contrast).to_numpy())[
        [c for c in first.columns if c not in ("treated", "y", "period")] + ["contrast"]
    ]


def observed_contrast(frame: pd.DataFrame) -> pd.Series:
    """Per patient, an observation whose expectation given the characteristics is the true
    benefit: a crossover patient's own difference (response on ketamine minus on the
    comparator); otherwise the transformed outcome of a randomized trial, Y·T/e − Y·(1−T)/(1−e)
    with e the share of the design's rows on ketamine (Athey and Imbens 2016). Its mean squared
    distance from an estimate ranks estimates as their distance from the truth does, up to a
    constant, which makes it a model-choice criterion that needs no truth."""
    e = frame.groupby("trial")["treated"].transform("mean").to_numpy()
    t, y = frame["treated"].to_numpy(dtype=float), frame["y"].to_numpy(dtype=float)
    ipw = pd.Series(y * t / e - y * (1 - t) / (1 - e), index=frame.index)
    arms = frame.groupby(ID)["treated"].agg(["size", "sum"])
    paired = arms.index[(arms["size"] == 2) & (arms["sum"] == 1)]
    own = frame[frame[ID].isin(paired)]
    own_difference = (own["y"] * (2 * own["treated"] - 1)).groupby(own[ID]).sum()
    contrast = ipw.groupby(frame[ID]).sum()  # single-row patients: their one term
    contrast.loc[own_difference.index] = own_difference.astype(float)
    return contrast


def tau_risk(estimate: np.ndarray, contrast: np.ndarray) -> float:
    """Mean squared distance of estimated benefit from the observed contrast (lower: closer to
    the true benefit, by a constant the estimates share)."""
    return float(np.mean((np.asarray(contrast) - np.asarray(estimate)) ** 2))


def contrast_slope(estimate: np.ndarray, contrast: np.ndarray) -> tuple[float, float, float]:
    """(slope, low, high): the least-squares slope of the observed contrast on the estimate,
    with its 95 % interval (heteroscedasticity-robust, HC1). Above 0 with its interval, the
    estimates pick out who benefits more than the data's noise would: calibration for
    benefit as a trial can observe it (1 is calibrated)."""
    e, c = np.asarray(estimate, dtype=float), np.asarray(contrast, dtype=float)
    n, centred = len(e), e - e.mean()
    sxx = float(centred @ centred)
    if n < 3 or sxx == 0:
        return float("nan"), float("nan"), float("nan")
    slope = float(centred @ (c - c.mean())) / sxx
    residual = c - c.mean() - slope * centred
    se = np.sqrt(n / (n - 2) * float((centred**2) @ (residual**2))) / sxx
    return slope, slope - 1.959964 * se, slope + 1.959964 * se


BAND_NAMES = ("low", "intermediate", "high")


def bands(estimate: np.ndarray, contrast: np.ndarray) -> list[dict[str, float | int | str | None]]:
    """Thirds of the cross-fitted estimates, each with the benefit its patients were observed
    to have: the mean observed contrast and its 95 % interval (normal, from the contrasts' own
    spread). What scoring reports beside a new patient's estimate, as a trial could check it:
    patients estimated like this one gained this much, give or take. `upper` is each band's
    upper cut (the last band has none: None)."""
    e, c = np.asarray(estimate, dtype=float), np.asarray(contrast, dtype=float)
    cuts = [float(x) for x in np.quantile(e, [1 / 3, 2 / 3])]
    which = np.digitize(e, cuts)  # as scoring places a new estimate
    out: list[dict[str, float | int | str | None]] = []
    for i, name in enumerate(BAND_NAMES):
        inside = c[which == i]
        n = len(inside)
        mean = float(inside.mean()) if n else float("nan")
        half = 1.959964 * float(inside.std(ddof=1)) / np.sqrt(n) if n > 1 else float("nan")
        band = {"name": name, "upper": cuts[i] if i < len(cuts) else None, "patients": n}
        band.update(observed=mean, observed_low=mean - half, observed_high=mean + half)
        out.append(band)
    return out
