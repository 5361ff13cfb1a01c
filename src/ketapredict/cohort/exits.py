"""Early exit from a course: who stops after session k, at which visit, and the drug exposure
of those who stop (their later sessions are never given)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy import special

from ketapredict.cohort.arms import Arm
from ketapredict.cohort.outcomes import Trajectory


@dataclass(frozen=True)
class Stops:
    """Per patient of one arm-period: stopped early, sessions given, and the end-of-course
    assessment -- hours after the first dose and its column among the visits."""

    exited: np.ndarray
    sessions: np.ndarray
    end_hours: np.ndarray
    end_column: np.ndarray

    @classmethod
    def planned(cls, arm: Arm, hours: np.ndarray, end_hours: float, n: int) -> Stops:
        """Every patient completes the course."""
        column = int(np.searchsorted(hours, end_hours))
        return cls(
            np.zeros(n, dtype=bool),
            np.full(n, float(arm.sessions)),
            np.full(n, end_hours),
            np.full(n, column),
        )

    def with_exits(self, exited: np.ndarray, arm: Arm, hours: np.ndarray) -> Stops:
        """Exiters: the exit session's count, their end assessment at the decision visit."""
        assert arm.exit is not None
        column = decision_column(arm, hours)
        return Stops(
            exited,
            np.where(exited, float(arm.exit.after_session), self.sessions),
            np.where(exited, hours[column], self.end_hours),
            np.where(exited, column, self.end_column),
        )


def decision_column(arm: Arm, hours: np.ndarray) -> int:
    """The visit an exit is decided at: the last one between the exit session and the next."""
    low, high = arm.exit_window()
    between = np.flatnonzero((hours > low) & (hours < high))
    if between.size == 0:
        raise ValueError(f"arm {arm.name!r}: no visit between {low:g} h and {high:g} h")
    return int(between[-1])


def shortened(arm: Arm) -> Arm:
    """The arm as an exiter receives it: only the sessions up to the exit."""
    assert arm.exit is not None
    return arm.model_copy(update={"sessions": arm.exit.after_session, "exit": None})


def reexpose(traj: Trajectory, rows: np.ndarray, after: int, eta: np.ndarray) -> Trajectory:
    """Exiters' latent states after the decision visit (column `after`) on their own log-odds
    `eta` (rows x visits), reusing their copula uniforms: only the drug exposure changes."""
    cells = np.ix_(rows, np.arange(after + 1, len(traj.hours)))
    new_eta, ystar = traj.eta.copy(), traj.ystar.copy()
    new_eta[cells] = eta[:, after + 1 :]
    ystar[cells] = new_eta[cells] + special.logit(traj.u[cells])
    return dataclasses.replace(traj, eta=new_eta, ystar=ystar)
