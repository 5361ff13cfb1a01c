"""What the truth says about a generated cohort, per design: how much the comparator's response
varies between patients, how far benefit and response on ketamine rank patients alike, and
the best possible (oracle) discrimination of response at 24 h."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ketapredict.cohort.frames import Cohort
from ketapredict.cohort.truth import first_rows
from ketapredict.contract import ID


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(stats.rankdata(a), stats.rankdata(b))[0, 1])


def _auroc(y: np.ndarray, p: np.ndarray) -> float:
    """The Mann-Whitney form of the AUROC (ties count half): one ranking, no ROC curve."""
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = stats.rankdata(p)
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


_COLUMNS = (
    "benefit_logodds_24h", "benefit_risk_24h", "p_response_active_24h", "p_response_control_24h"
)  # fmt: skip


def _design(truth: dict[str, np.ndarray], *, ranks: bool = True) -> dict[str, float | None]:
    """One design's (or the pool's) figures; `truth` holds _COLUMNS and the active period's
    recorded response at 24 h (`response_24h`, NaN: not seen). `ranks`: the Spearman
    correlation (within a design only: across designs it would mix their benefits)."""
    benefit, p_active = truth["benefit_logodds_24h"], truth["p_response_active_24h"]
    control, response = truth["p_response_control_24h"], truth["response_24h"]
    seen = ~np.isnan(response)
    oracle = _auroc(response[seen], p_active[seen])
    rho = _spearman(benefit, p_active) if ranks else np.nan
    return {
        "patients": len(benefit),
        "p_response_active_24h_mean": float(p_active.mean()),
        "p_response_control_24h_mean": float(control.mean()),
        "p_response_control_24h_sd": float(control.std(ddof=1)),
        "benefit_logodds_24h_sd": float(benefit.std(ddof=1)),
        "benefit_risk_24h_mean": float(truth["benefit_risk_24h"].mean()),
        "spearman_benefit_vs_p_active": rho if np.isfinite(rho) else None,
        "oracle_auroc_24h": oracle if np.isfinite(oracle) else None,
    }


class TruthSummary:
    """Per design and pooled: SD of the comparator's true response probability, SD of the true
    benefit, Spearman correlation of benefit with response on ketamine, oracle AUROC of the
    recorded response at 24 h in the active period. Cohorts are added one by one (a design's
    figures are computed as it is added); `figures` gives them all."""

    def __init__(self) -> None:
        self.designs: dict[str, dict[str, float | None]] = {}
        self._pool: list[dict[str, np.ndarray]] = []

    def add(self, cohort: Cohort) -> None:
        columns = _columns(cohort)
        trials = cohort.truth["trial"].array
        for code, name in enumerate(trials.categories):
            where = np.flatnonzero(trials.codes == code)
            if where.size:
                self.designs[str(name)] = _design({k: v[where] for k, v in columns.items()})
        self._pool.append(columns)

    def figures(self) -> dict[str, object]:
        pooled = {k: np.concatenate([c[k] for c in self._pool]) for k in self._pool[0]}
        designs = dict(sorted(self.designs.items()))
        return {"designs": designs, "pooled": _design(pooled, ranks=False)}


def _columns(cohort: Cohort) -> dict[str, np.ndarray]:
    """The truth's _COLUMNS and the response at 24 h of each patient's active period."""
    truth, outcomes = cohort.truth, cohort.outcomes
    ids = outcomes[ID].to_numpy()
    rows = first_rows(ids, outcomes["is_active"].to_numpy())  # each patient's active period
    columns = {name: truth[name].to_numpy() for name in _COLUMNS}
    columns["response_24h"] = np.full(len(truth), np.nan)
    at = pd.Index(truth[ID].to_numpy()).get_indexer(ids[rows])
    columns["response_24h"][at] = outcomes["response_24h"].to_numpy()[rows]
    return columns


def summarize(cohort: Cohort) -> dict[str, object]:
    """The TruthSummary figures of one cohort."""
    summary = TruthSummary()
    summary.add(cohort)
    return summary.figures()
