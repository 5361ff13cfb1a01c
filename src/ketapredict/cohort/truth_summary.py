"""What the truth says about a generated cohort, per design: how much the comparator's response
varies between patients, how far benefit and response on ketamine rank patients alike, and
the best possible (oracle) discrimination of response at 24 h."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ketapredict.cohort.frames import Cohort
from ketapredict.contract import ID
from ketapredict.metrics import auroc


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(stats.rankdata(a), stats.rankdata(b))[0, 1])


def _design(truth: pd.DataFrame, *, ranks: bool = True) -> dict[str, float | None]:
    """One design's (or the pool's) figures; `truth` carries the active period's recorded
    response at 24 h as `response_24h`. `ranks`: the Spearman correlation (within a design
    only: across designs it would mix their different benefits)."""
    benefit = truth["benefit_logodds_24h"].to_numpy()
    p_active = truth["p_response_active_24h"].to_numpy()
    seen = truth["response_24h"].notna().to_numpy()
    y, p = truth["response_24h"].to_numpy()[seen], p_active[seen]
    oracle = auroc(y, p) if len(y) and 0 < y.mean() < 1 else np.nan
    rho = _spearman(benefit, p_active) if ranks else np.nan
    return {
        "patients": len(truth),
        "p_response_active_24h_mean": float(p_active.mean()),
        "p_response_control_24h_mean": float(truth["p_response_control_24h"].mean()),
        "p_response_control_24h_sd": float(truth["p_response_control_24h"].std()),
        "benefit_logodds_24h_sd": float(benefit.std(ddof=1)),
        "benefit_risk_24h_mean": float(truth["benefit_risk_24h"].mean()),
        "spearman_benefit_vs_p_active": rho if np.isfinite(rho) else None,
        "oracle_auroc_24h": float(oracle) if np.isfinite(oracle) else None,
    }


def summarize(cohort: Cohort) -> dict[str, object]:
    """Per design and pooled: SD of the comparator's true response probability, SD of the true
    benefit, Spearman correlation of benefit with response on ketamine, oracle AUROC of the
    recorded response at 24 h in the active period."""
    columns = [
        ID, "trial", "benefit_logodds_24h", "benefit_risk_24h", "p_response_active_24h",
        "p_response_control_24h",
    ]  # fmt: skip
    active = cohort.outcomes[cohort.outcomes["is_active"]].drop_duplicates(ID)
    truth = cohort.truth[columns].merge(active[[ID, "response_24h"]], on=ID, how="left")
    designs = {str(name): _design(rows) for name, rows in truth.groupby("trial", observed=True)}
    return {"designs": designs, "pooled": _design(truth, ranks=False)}
