"""The time line of a design: crossover sequences, randomized withdrawal, visits, and the
phases that follow the randomized part on the same patients."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ketapredict.cohort.arms import Arm
from ketapredict.validation import Strict


class Sequence(Strict):
    arms: list[str] = Field(min_length=2)
    allocation: float = Field(gt=0, le=1)


class Withdrawal(Strict):
    """Randomized withdrawal: who is eligible at the end of induction, and the arms after it."""

    eligible: Literal["response", "remission"] = "response"
    arms: list[str] = Field(min_length=2)
    # Stable: eligible only if responding (or remitted) at every visit in the last
    # `stable_days` days of induction, not only at its end.
    stable_days: float = Field(default=0.0, ge=0)
    # Earlier gates: hours after the first dose at which the patient must also respond (or
    # be remitted), e.g. the end of an induction before an optimization phase.
    gate_hours: list[float] = []


class Visits(Strict):
    """Visit times: hours after the first dose, hours after the last, days of follow-up."""

    hours: list[float] = Field(min_length=1)
    after_last_hours: list[float] = Field(default=[24.0], min_length=1)
    follow_up_days: list[float] = []

    @model_validator(mode="after")
    def _check(self) -> Visits:
        if 24.0 not in self.hours:
            raise ValueError("visits.hours must include 24 (response at 24 h is the default label)")
        if min(self.hours + self.after_last_hours + self.follow_up_days) <= 0:
            raise ValueError("visit times must be positive")
        return self


class Phase(Strict):
    """A stage after the randomized part, on the same patients: its arm (an arm of the trial
    by name, or one of its own), who enters -- all, or the responders or non-responders at the
    previous stage's end-of-course assessment, among patients still in the trial -- the days
    from that assessment to its first dose, and its own visits and follow-up."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    arm: str | Arm
    enter: Literal["all", "responders", "non_responders"] = "all"
    gap_days: float = Field(gt=0)
    visits: Visits
    follow_up_days: float = Field(default=7.0, gt=0)

    @property
    def arm_name(self) -> str:
        return self.arm if isinstance(self.arm, str) else self.arm.name
