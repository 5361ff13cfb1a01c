"""Rating scales and the documented mapping from the MADRS-equivalent severity the engine uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """A rating scale: its range, its remission cut-off and its factor from MADRS points.

    The engine keeps every patient's severity on the MADRS scale and shows it on the study's
    scale by a proportional mapping (score = factor x MADRS-equivalent), so a relative change
    -- and hence response, a >=50 % reduction -- means the same on every scale. The factors are
    the ratio of typical baseline means in TRD trials (MADRS ~32, HDRS-17 ~24, HDRS-21 ~25.6,
    HDRS-25 ~30.4, IES-R ~48 in chronic PTSD); see README "Rating scales".
    """

    name: str
    label: str
    max_score: int
    factor: float
    remission_max: int


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("madrs", "MADRS", 60, 1.00, 10),
        Scale("hdrs17", "HDRS-17", 52, 0.75, 7),
        Scale("hdrs21", "HDRS-21", 64, 0.80, 7),
        Scale("hdrs25", "HDRS-25", 76, 0.95, 9),
        Scale("iesr", "IES-R", 88, 1.50, 24),
    )
}
