"""What the truth says about a generated cohort, per design: how much the comparator's response
varies between patients, how far benefit and response on ketamine rank patients alike, and
the best possible (oracle) discrimination of response at 24 h."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketapredict.cohort.frames import Cohort
from ketapredict.contract import ID
from ketapredict.metrics import auroc


def _design(truth: pd.DataFrame, active: pd.DataFrame) -> dict[str, float | None]:
    benefit, p_active = truth["benefit_logodds_24h"], truth["p_response_active_24h"]
    seen = active[active["response_24h"].notna()]
    y = seen["response_24h"].to_numpy()
    oracle = auroc(y, seen["p_response_active_24h"].to_numpy()) if 0 < y.mean() < 1 else np.nan
    return {
        "patients": len(truth),
        "p_response_active_24h_mean": float(p_active.mean()),
        "p_response_control_24h_mean": float(truth["p_response_control_24h"].mean()),
        "p_response_control_24h_sd": float(truth["p_response_control_24h"].std()),
        "benefit_logodds_24h_sd": float(benefit.std()),
        "benefit_risk_24h_mean": float(truth["benefit_risk_24h"].mean()),
        "spearman_benefit_vs_p_active": float(benefit.corr(p_active, method="spearman")),
        "oracle_auroc_24h": float(oracle) if np.isfinite(oracle) else None,
    }


def summarize(cohort: Cohort) -> dict[str, object]:
    """Per design and pooled: SD of the comparator's true response probability, SD of the true
    benefit, Spearman correlation of benefit with response on ketamine, oracle AUROC of the
    recorded response at 24 h in the active period."""
    truth = cohort.truth
    active = cohort.outcomes[cohort.outcomes["is_active"]].drop_duplicates(ID)
    active = active[[ID, "response_24h"]].merge(truth[[ID, "p_response_active_24h"]], on=ID)
    trial_of = truth.set_index(ID)["trial"]
    designs = {
        str(name): _design(rows, active[active[ID].map(trial_of) == name])
        for name, rows in truth.groupby("trial", observed=True)
    }
    return {"designs": designs, "pooled": _design(truth, active)}
