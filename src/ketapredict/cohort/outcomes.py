"""Rating-scale trajectories, response and remission, and relapse after response.

At every visit y* = eta + L, L standard logistic (a Gaussian copula makes visits of one
patient correlated), true response <=> y* > 0, so P(true response) = sigmoid(eta) exactly. The
true score is a monotone map of y*, built so that it is <= baseline / 2 exactly when y* > 0;
the recorded score adds the rater's error, and response is judged on the recorded score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ketapredict.cohort.effects import EffectModel
from ketapredict.cohort.scales import Scale
from ketapredict.cohort.specs import Arm, TrialSpec


def visit_hours(spec: TrialSpec, arm: Arm, period_hours: float | None = None) -> np.ndarray:
    """Post-baseline visit times (hours since the period's first dose) for one arm."""
    last = arm.session_hours()[-1]
    times = list(spec.visits.hours)
    if arm.sessions > 1:
        times += [last + h for h in spec.visits.after_last_hours]
    times += [last + 24.0 * d for d in spec.visits.follow_up_days if d <= spec.follow_up_days]
    hours = np.unique(np.asarray(times, dtype=np.float64))
    if period_hours is not None:
        hours = hours[hours < period_hours]
    return hours


def end_of_course_hours(spec: TrialSpec, arm: Arm) -> float:
    """The end-of-course assessment: 24 h after the last session (after the only one if one)."""
    return arm.session_hours()[-1] + (spec.visits.after_last_hours[0] if arm.sessions > 1 else 24.0)


def visit_label(hours: float) -> str:
    if hours == 0:
        return "baseline"
    if abs(hours - 2.0 / 3.0) < 0.01:
        return "40min"
    return f"{hours:g}h" if hours <= 72 else f"d{hours / 24:g}"


def noise_correlation(model: EffectModel, hours: np.ndarray) -> np.ndarray:
    """Latent correlation of the visits (AR in log-time plus a floor) and the dissociation draw."""
    m = model.response
    lt = np.log1p(hours)
    dist = np.abs(lt[:, None] - lt[None, :])
    R = m.visit_correlation + (1 - m.visit_correlation) * np.exp(
        -dist / np.log1p(m.correlation_hours)
    )
    full = np.eye(len(hours) + 1)
    full[:-1, :-1] = R
    full[-1, :-1] = full[:-1, -1] = m.dissociation_correlation
    return full


@dataclass
class Trajectory:
    """Latent visit states of one arm-period: hours (V,), eta and ystar (n, V), uniforms (n, V),
    and each rating's error in scale points (n, V)."""

    hours: np.ndarray
    eta: np.ndarray
    ystar: np.ndarray
    u: np.ndarray
    z_dissociation: np.ndarray
    rating_error: np.ndarray


def simulate_trajectory(
    eta: np.ndarray,
    hours: np.ndarray,
    patient_latent: np.ndarray,
    *,
    model: EffectModel,
    rng: np.random.Generator,
    rating_sd: float = 0.0,
) -> Trajectory:
    """Latent states around the true log-odds `eta` (patients, visits): correlated logistic
    noise per visit, plus the dissociation draw that shares the copula, and the rater's
    independent error on each rating (SD `rating_sd` scale points)."""
    n = len(eta)
    L = np.linalg.cholesky(noise_correlation(model, hours))
    z = rng.standard_normal((n, len(hours) + 1)) @ L.T
    share = model.response.patient_correlation
    z = np.sqrt(share) * patient_latent[:, None] + np.sqrt(1 - share) * z
    u = special.ndtr(z[:, :-1])
    ystar = eta + special.logit(u)
    error = rating_sd * rng.standard_normal(ystar.shape)
    return Trajectory(hours, eta, ystar, u, z[:, -1], error)


def truncated_ystar(eta: np.ndarray, u: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Logistic y* with location eta, conditioned on its sign, reusing the copula uniform u."""
    f0 = special.expit(-eta)
    v = np.where(positive, f0 + u * (1 - f0), u * f0)
    v = np.clip(v, 1e-12, 1 - 1e-12)
    return eta + special.logit(v)


def response_threshold(baseline: np.ndarray) -> np.ndarray:
    """Fraction of improvement above which the rounded score is <= baseline / 2."""
    return 1.0 - (np.floor(baseline / 2.0) + 0.5) / baseline


def scores_from_ystar(
    ystar: np.ndarray,
    baseline: np.ndarray,
    scale: Scale,
    model: EffectModel,
    rating_error: np.ndarray | float = 0.0,
    spread: float = 1.0,
) -> np.ndarray:
    """Recorded scores: the true score (monotone in y*, <= baseline / 2 exactly when y* > 0;
    `spread` scales its distance from that cut-off) plus the rater's error, rounded and
    clipped to the scale."""
    m = model.response
    slope = spread * np.where(ystar > 0, m.improve_scale, m.worsen_scale)
    improvement = response_threshold(baseline)[:, None] + slope * ystar
    raw = baseline[:, None] * (1.0 - improvement) + rating_error
    return np.clip(np.round(raw), 0, scale.max_score)


def relapse_times(lp: np.ndarray, model: EffectModel, rng: np.random.Generator) -> np.ndarray:
    """Weibull proportional-hazards relapse times (days after the end of course) given the true
    linear predictors `lp`."""
    r = model.relapse
    e = rng.standard_exponential(len(lp))
    return r.weibull_scale * (e * np.exp(-lp)) ** (1.0 / r.weibull_shape)
