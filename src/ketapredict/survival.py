"""Kaplan–Meier estimation, shared by the trial statistics and the censoring weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# Products of (n - d) / n that equal 0.5 exactly can land a few ulps above it; without the
# slack a median sitting exactly on S = 0.5 would jump to the next event time.
_HALF = 0.5 + 1e-10


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan–Meier curve: the distinct event times, ascending, and S just after each."""

    times: FloatArray
    survival: FloatArray

    def at(self, t: float) -> float:
        """S(t), right-continuous: events at exactly `t` have already happened."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return float(self.survival[i]) if i >= 0 else 1.0

    def before(self, t: np.ndarray) -> FloatArray:
        """S(t-), left-continuous: the probability of no event strictly before each `t`."""
        steps = np.searchsorted(self.times, t, side="left")
        return np.concatenate([[1.0], self.survival])[steps]

    def median(self) -> float:
        """The smallest time t with S(t) <= 0.5; NaN if never reached.

        lifelines' `median_survival_time_` convention (which returns inf when not reached), not
        R/SAS's midpoint rule when S sits exactly on 0.5."""
        i = int(np.searchsorted(-self.survival, -_HALF, side="left"))
        return float(self.times[i]) if i < self.survival.size else np.nan


def kaplan_meier(time: FloatArray, event: FloatArray) -> KaplanMeier:
    """The product-limit estimate from times and 0/1 event flags (no missing values): at each
    event time, the share of those still at risk (time >= t) who do not have the event."""
    times, deaths = np.unique(time[event == 1.0], return_counts=True)
    at_risk = time.size - np.searchsorted(np.sort(time), times, side="left")
    return KaplanMeier(times, np.cumprod(1.0 - deaths / at_risk))
