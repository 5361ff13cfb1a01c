"""What an arm gives: drug, route, dose, sessions and their spacing, maintenance, early exit."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ketapredict.cohort.effects import DRUGS, ROUTES
from ketapredict.validation import Strict


class Maintenance(Strict):
    """Sessions continued after the course, every `interval_days`, for a share of patients."""

    interval_days: float = Field(gt=0)
    probability: float = Field(default=1.0, ge=0, le=1)


class Exit(Strict):
    """Early exit from a course: a patient whose recorded improvement at the last visit before
    session `after_session` + 1 is below `min_improvement` stops there. The cut-off is at most
    0.5, so a rule stops non-improvers, never a responder."""

    after_session: int = Field(ge=1)
    min_improvement: float = Field(gt=0, le=0.5)


class Arm(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    drug: Literal[DRUGS]  # type: ignore[valid-type]
    route: Literal[ROUTES]  # type: ignore[valid-type]
    dose: float = Field(ge=0, description="mg/kg (IV, IM, oral) or mg (intranasal)")
    sessions: int = Field(default=1, ge=1, le=200)
    interval_days: float = Field(default=0.0, ge=0)
    maintenance: Maintenance | None = None
    exit: Exit | None = None
    allocation: float = Field(default=1.0, gt=0, le=1)
    # Oral antidepressant alongside the arm: "new" -- started with the course in every patient
    # (add-on designs such as TRANSFORM and SUSTAIN-1 induction); "continued" -- each patient's
    # own, already failing antidepressant kept unchanged; "none" -- antidepressant-free.
    background: Literal["none", "continued", "new"] = "continued"
    # Spread of the change from baseline on this arm relative to the shared score map (1: as
    # every arm); set from a published SD of change. Response probabilities without rater
    # error do not depend on it.
    change_spread: float = Field(default=1.0, gt=0.2, le=3.0)

    @model_validator(mode="after")
    def _check(self) -> Arm:
        if self.sessions > 1 and self.interval_days <= 0:
            raise ValueError(f"arm {self.name!r}: several sessions need interval_days > 0")
        if self.exit is not None and self.exit.after_session >= self.sessions:
            raise ValueError(
                f"arm {self.name!r}: exit after session {self.exit.after_session} needs more "
                f"than {self.exit.after_session} sessions (the arm has {self.sessions})"
            )
        return self

    def session_hours(self) -> list[float]:
        return [24.0 * self.interval_days * k for k in range(self.sessions)]

    def exit_window(self) -> tuple[float, float]:
        """Hours (after the first dose) of the exit session and of the next one: the exit is
        decided at the last visit between them."""
        assert self.exit is not None
        hours = self.session_hours()
        return hours[self.exit.after_session - 1], hours[self.exit.after_session]
