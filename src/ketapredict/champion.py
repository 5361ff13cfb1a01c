"""Who becomes champion: the quality gate and the comparison with the current champion. Pure
policy on cross-validated predictions of the training split -- the test split decides nothing,
so the final report's numbers stay untouched by the choice they describe."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ketapredict import metrics
from ketapredict.config import TrainParams

MIN_ROWS = 100  # fewer paired rows than this: the gate alone decides
DECIDED_ON = (
    "cross-validated out-of-fold predictions on the training split (grouped by patient, "
    "calibration cross-fitted); the test split was not read"
)


def scores(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """The gate's measures: discrimination, accuracy and calibration of probabilities."""
    intercept, slope = metrics.calibration_intercept_slope(y, p, w)
    return {
        "auroc": float(metrics.auroc(y, p, w)),
        "auprc": float(metrics.auprc(y, p, w)),
        "brier": float(metrics.brier(y, p, w)),
        "log_loss": float(metrics.log_loss(y, p, w)),
        "calibration_intercept": float(intercept),
        "calibration_slope": float(slope),
    }


def gate_reasons(cv: dict[str, float], params: TrainParams) -> list[str]:
    """Why a model fails the quality gate on its cross-validated scores (empty: it passes)."""
    g, reasons = params.gate, []
    if cv["auroc"] < g.min_auroc:
        reasons.append(f"cross-validated AUROC {cv['auroc']:.3f} < {g.min_auroc}")
    if cv["brier"] > g.max_brier:
        reasons.append(f"cross-validated Brier {cv['brier']:.3f} > {g.max_brier}")
    low, high = g.calibration_slope
    if not low <= cv["calibration_slope"] <= high:
        reasons.append(
            f"cross-validated calibration slope {cv['calibration_slope']:.2f} "
            f"outside [{low}, {high}]"
        )
    return reasons


@dataclass(frozen=True)
class Comparison:
    """Candidate vs champion on the same training rows, each prediction honest: the
    candidate's out-of-fold; the champion's out-of-fold where it trained on the row, its own
    prediction where it never saw the row. Rows with neither are left out."""

    rows: int
    auroc: float | None = None
    champion_auroc: float | None = None
    note: str = ""


def honest_champion_predictions(
    rows_fp: np.ndarray,
    predicted: np.ndarray,
    seen: np.ndarray | None,
    seen_oof: np.ndarray | None,
) -> np.ndarray:
    """Per row: the champion's out-of-fold probability if it trained on the row (NaN when it
    kept none), else its prediction `predicted`. `seen` is sorted, `seen_oof` aligned with it."""
    out = np.asarray(predicted, dtype=float).copy()
    if seen is None or len(seen) == 0:
        return out
    pos = np.clip(np.searchsorted(seen, rows_fp), 0, len(seen) - 1)
    trained = seen[pos] == rows_fp
    out[trained] = np.nan if seen_oof is None else seen_oof[pos[trained]]
    return out


def compare(
    y: np.ndarray, w: np.ndarray, candidate: np.ndarray, champion: np.ndarray
) -> Comparison:
    """AUROC of both on the rows where both predictions are honest (champion not NaN)."""
    ok = ~np.isnan(champion)
    y_ok = y[ok]
    if ok.sum() < MIN_ROWS or y_ok.min(initial=1) == y_ok.max(initial=0):
        note = "too few training rows with an honest champion prediction; gate alone decides"
        return Comparison(rows=int(ok.sum()), note=note)
    return Comparison(
        rows=int(ok.sum()),
        auroc=float(metrics.auroc(y_ok, candidate[ok], w[ok])),
        champion_auroc=float(metrics.auroc(y_ok, champion[ok], w[ok])),
    )


@dataclass(frozen=True)
class Decision:
    crowned: bool
    reason: str
    previous_champion: str | None
    comparison: dict[str, Any] = field(default_factory=dict)
    decided_on: str = DECIDED_ON

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(
    cv: dict[str, float],
    params: TrainParams,
    *,
    current: str | None,
    comparison: Comparison | None,
) -> Decision:
    """Crown the candidate if it passes the gate and is not worse than the champion by more
    than the tolerance (AUROC on the same rows); otherwise say why."""
    reasons = gate_reasons(cv, params)
    compared: dict[str, Any] = {}
    if comparison is not None:
        compared = asdict(comparison)
        tolerance = params.gate.champion_tolerance
        if (
            not reasons
            and comparison.auroc is not None
            and comparison.champion_auroc is not None
            and comparison.auroc < comparison.champion_auroc - tolerance
        ):
            reasons.append(
                f"cross-validated AUROC {comparison.auroc:.4f} is worse than champion "
                f"v{current}'s {comparison.champion_auroc:.4f} on the same "
                f"{comparison.rows} training patients"
            )
    if reasons:
        return Decision(False, "not champion: " + "; ".join(reasons), current, compared)
    return Decision(True, "passed the quality gate; champion", current, compared)
