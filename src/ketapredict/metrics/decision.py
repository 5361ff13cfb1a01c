"""Clinical usefulness: decision-curve net benefit of "treat if p ≥ t", observed and expected."""

from __future__ import annotations

import numpy as np

from ketapredict.errors import DataError
from ketapredict.metrics.inputs import Array, check, check_outcome, check_proba, check_thresholds


def net_benefit(y: Array, p: Array, thresholds: Array, weights: Array | None = None) -> Array:
    """Decision-curve net benefit of "treat if p ≥ t": TP/n − FP/n · t/(1 − t).

    t/(1 − t) is the exchange rate implied by the threshold: the harm of treating a non-case in
    units of the benefit of treating a case (Vickers & Elkin, Med Decis Making 2006).
    Case weights (n,) (e.g. IPCW: a row censored without a label weighs 0) give one curve;
    (B, n) resample counts give one curve per row, shape (B, thresholds).
    """
    y, p = check(y, p)
    t = check_thresholds(thresholds)
    if weights is not None:
        treat = (p[:, None] >= t[None, :]).astype(float)
        w = np.asarray(weights, dtype=float)
        tp, fp = w @ (y[:, None] * treat), w @ ((1 - y)[:, None] * treat)
        return (tp - fp * t / (1 - t)) / w.sum(axis=-1)[..., None]
    order = np.argsort(p)
    below = np.searchsorted(p[order], t, side="left")
    cases_below = np.r_[0, np.cumsum(y[order])][below]
    tp = y.sum() - cases_below
    fp = (p.size - below) - tp
    return (tp - fp * t / (1 - t)) / p.size


def net_benefit_treat_all(y: Array, thresholds: Array, weights: Array | None = None) -> Array:
    """Net benefit of treating everyone: prevalence − (1 − prevalence) · t/(1 − t)."""
    y = check_outcome(y)
    t = check_thresholds(thresholds)
    prevalence = float(np.average(y, weights=weights))
    return prevalence - (1 - prevalence) * t / (1 - t)


def counterfactual_net_benefit(
    p: Array, p_treated: Array, p_control: Array, thresholds: Array
) -> dict[str, Array]:
    """Expected decision curve of "treat if p ≥ t", scored with true response risks in both arms.

    The outcome is response, a good outcome; p_treated and p_control are its true probabilities
    under the treatment and under the comparator (synthetic data has both for every patient).
    t is the least probability of response on treatment at which a clinician would give it,
    so treating costs t/(1 − t) responses per treated non-responder (Vickers & Elkin 2006).
    With the true risks known, the expected counts replace observed ones (as trial arms do in
    Vickers, Kattan & Sargent, Trials 2007;8:14):

        net_benefit(t) = mean_i treat_i · (p_treated_i − t) / (1 − t),

    which is 0 for treat-none and is maximised by the oracle, treat_i = p_treated_i ≥ t.
    gain(t) = mean_i treat_i · (p_treated_i − p_control_i) is the causal side: responses gained
    per patient over giving everyone the comparator. Net benefit credits responses that would
    have happened on the comparator too; gain shows how much of it the treatment caused.
    Returns, per threshold: {model, treat_all, treat_none, oracle} net benefit and
    gain_{model, treat_all, oracle}, plus treated_{model, oracle} (fraction treated).
    """
    p, p_treated, p_control = (check_proba(a) for a in (p, p_treated, p_control))
    if not p.ndim == 1 or not p.shape == p_treated.shape == p_control.shape:
        raise DataError("p, p_treated and p_control must be 1-D and of the same length")
    t = check_thresholds(thresholds)[:, None]
    policies = {
        "model": p >= t,
        "treat_all": np.ones((t.size, p.size), dtype=bool),
        "oracle": p_treated >= t,
    }
    out: dict[str, Array] = {"treat_none": np.zeros(t.size)}
    for name, treat in policies.items():
        out[name] = (treat * (p_treated - t)).mean(axis=1) / (1 - t[:, 0])
        out[f"gain_{name}"] = (treat * (p_treated - p_control)).mean(axis=1)
    out["treated_model"] = policies["model"].mean(axis=1)
    out["treated_oracle"] = policies["oracle"].mean(axis=1)
    return out
