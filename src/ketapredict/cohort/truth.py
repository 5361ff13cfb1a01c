"""The truth the generator used: true log-odds and probabilities per patient, true effects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from ketapredict.cohort import frames
from ketapredict.cohort.effects import EffectModel, TermBasis, linear_predictor
from ketapredict.cohort.outcomes import end_of_course_hours, response_threshold
from ketapredict.cohort.specs import Arm, TrialSpec


@dataclass(frozen=True)
class TrialEffects:
    """Each patient's trial-level shifts (log-odds): of the non-specific component, and of
    the drug effect. Patients of one trial share them."""

    expectancy: np.ndarray
    drug: np.ndarray

    def take(self, idx: np.ndarray) -> TrialEffects:
        return TrialEffects(self.expectancy[idx], self.drug[idx])


def draw_trial_effects(
    model: EffectModel, blocks: np.ndarray, rng: np.random.Generator, *, typical: bool = False
) -> TrialEffects:
    """One draw per trial (block) of the heterogeneity model; `typical`: every shift 0, the
    design's typical trial (its population value)."""
    h = model.response.heterogeneity
    count = int(blocks.max()) + 1 if len(blocks) else 0
    z = rng.standard_normal((count, 2))
    if typical:
        z[:] = 0.0
    return TrialEffects(h.expectancy_sd * z[blocks, 0], h.drug_sd * z[blocks, 1])


@dataclass(frozen=True)
class Patients:
    """What the truth needs of a set of patients: true covariates, the prognostic and
    predictive terms evaluated on them, and their trial's shifts."""

    covariates: pd.DataFrame
    prognostic: TermBasis
    predictive: TermBasis
    effects: TrialEffects

    @classmethod
    def of(cls, model: EffectModel, covariates: pd.DataFrame, effects: TrialEffects) -> Patients:
        r = model.response
        return cls(
            covariates, TermBasis(r.prognostic, covariates), TermBasis(r.predictive, covariates),
            effects,
        )  # fmt: skip


def background_logodds(
    model: EffectModel, arm: Arm, covariates: pd.DataFrame, hours: np.ndarray
) -> np.ndarray:
    """The arm's oral antidepressant (a continued one only where the patient takes one) and
    the natural course, per patient and visit."""
    r = model.response
    curve = r.background[arm.background].at(hours)[None, :]
    if arm.background == "continued":
        curve = curve * covariates["antidepressant"].to_numpy(dtype=np.float64)[:, None]
    return curve + r.natural_course.at(hours)[None, :]


def response_logodds(
    model: EffectModel, arm: Arm, hours: np.ndarray, patients: Patients
) -> np.ndarray:
    """True log-odds of response (improvement >= 50 %, before rater noise) on `arm` at each
    visit time, per patient, shape (patients, visits): the non-specific part (expectancy,
    background, natural course, prognostic terms, the trial's shift) plus the session-weighted,
    dose-scaled drug effect (with the trial's shift and the predictive terms)."""
    hours = np.atleast_1d(np.asarray(hours, dtype=np.float64))
    r = model.response
    expectancy = r.expectancy[model.drugs[arm.drug].expectancy].at(hours)[None, :]
    eta = (
        expectancy
        + background_logodds(model, arm, patients.covariates, hours)
        + patients.prognostic.at(hours)
        + patients.effects.expectancy[:, None]
    )
    dose_factor = model.dose_factor(arm.drug, arm.route, arm.dose)
    if dose_factor == 0:
        return eta
    weight = model.session_weight(hours, np.asarray(arm.session_hours())) * dose_factor
    drug = r.drug_effect + patients.effects.drug[:, None]
    drug = drug + patients.predictive.at(hours, per_kg=model.per_kg(arm.route))
    return eta + weight[None, :] * drug


# Gauss-Hermite nodes and weights for expectations over a standard normal rater error; 12
# nodes are within 1e-5 of the exact probability while the error is under 1.5 logit units
# (trials: about 0.6; the registry at a low baseline: up to 3, within 2e-3).
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(12)
_WEIGHTS = _WEIGHTS / np.sqrt(2.0 * np.pi)


def _latent_shift(gap: np.ndarray, model: EffectModel, spread: np.ndarray | float) -> np.ndarray:
    """The latent y* at which the improvement exceeds the response cut-off by `gap`."""
    slope = np.where(gap >= 0, model.response.improve_scale, model.response.worsen_scale)
    return gap / (slope * spread)


def response_probability(
    logodds: np.ndarray,
    baseline: np.ndarray,
    threshold: float,
    model: EffectModel,
    noise_sd: np.ndarray | float = 0.0,
    spread: np.ndarray | float = 1.0,
) -> np.ndarray:
    """P(recorded improvement >= threshold) from the true log-odds of response, inverting the
    generator's score map (with the arm's `spread`) and integrating over the rater's error (SD
    `noise_sd` in scale points, Gauss-Hermite); exact for the rounded scores at 0.5."""
    baseline = np.asarray(baseline, dtype=np.float64)
    gap = np.zeros_like(baseline) if threshold == 0.5 else threshold - response_threshold(baseline)
    noise = np.broadcast_to(np.asarray(noise_sd, dtype=np.float64), baseline.shape)
    if not np.any(noise > 0):
        return special.expit(logodds - _latent_shift(gap, model, spread))
    p = np.zeros(np.broadcast(logodds, baseline).shape)
    error = noise / baseline  # one rater SD, as a fraction of the baseline
    if threshold == 0.5:  # the shift's sign is the node's: one slope per node
        m = model.response
        slopes = {x >= 0: (m.improve_scale if x >= 0 else m.worsen_scale) * spread for x in (-1, 1)}
        term = np.empty_like(p)  # each node's term computed in place: no temporaries
        for x, w in zip(_NODES, _WEIGHTS, strict=True):
            np.multiply(np.divide(x, slopes[x >= 0]), error, out=term)
            np.subtract(logodds, term, out=term)
            special.expit(term, out=term)
            term *= w
            p += term
        return p
    for x, w in zip(_NODES, _WEIGHTS, strict=True):
        p += w * special.expit(logodds - _latent_shift(gap + x * error, model, spread))
    return p


def relapse_lp(model: EffectModel, frame: pd.DataFrame) -> np.ndarray:
    """Each patient's true relapse linear predictor (log hazard ratio), from the relapse terms."""
    return linear_predictor(model.relapse.terms, frame)


def relapse_probability(model: EffectModel, lp: np.ndarray, horizon_days: float) -> np.ndarray:
    """P(relapse by horizon) under the Weibull proportional-hazards model."""
    r = model.relapse
    cum = (horizon_days / r.weibull_scale) ** r.weibull_shape * np.exp(lp)
    return -np.expm1(-cum)


def reference_arms(spec: TrialSpec, model: EffectModel) -> tuple[str, str | None]:
    """The design's active arm and its comparator (None: no concurrent control)."""
    active = [a.name for a in spec.all_arms() if model.drugs[a.drug].active]
    if not active:
        raise ValueError(f"trial {spec.name!r} has no active (ketamine or esketamine) arm")
    if spec.design == "randomized_withdrawal":
        return active[0], None
    inactive = (a.name for a in spec.arms if not model.drugs[a.drug].active)
    return active[0], spec.control or next(inactive, None)


# The standard comparators every patient's benefit is also given against: one IV infusion
# of saline, or of midazolam 0.045 mg/kg (the active placebo of the ketamine trials).
STANDARD_COMPARATORS = {
    "saline": Arm(name="saline", drug="saline", route="iv", dose=0.0),
    "midazolam": Arm(name="midazolam", drug="midazolam", route="iv", dose=0.045),
}
# Covariates the truth keeps as they truly were (the patients table has them as recorded).
TRUE_COLUMNS = (
    "family_history_aud", "prior_suicide_attempt", "benzodiazepine_mg", "bmi", "age",
    "n_failed_trials", "baseline_madrs", "episode_months", "anxious_depression",
    "comorbid_ptsd", "antidepressant",
)  # fmt: skip


def truth_table(
    spec: TrialSpec,
    model: EffectModel,
    covariates: pd.DataFrame,
    outcomes: pd.DataFrame,
    horizon_days: float,
    effects: TrialEffects,
    noise_sd: float,
) -> pd.DataFrame:
    """Per patient, every quantity counterfactual: true log-odds and probabilities of recorded
    response on the design's active arm (24 h and end of course), under the design's comparator
    and under each standard comparator at 24 h, the true benefit (risk and log-odds
    difference), the trial's shifts, the relapse truth and the true covariate values."""
    n = len(covariates)
    patients = Patients.of(model, covariates, effects)
    ref_active, ref_control = reference_arms(spec, model)
    patient = outcomes["patient"].to_numpy()
    active = first_rows(patient, outcomes["is_active"].to_numpy())
    own = pd.Series(ref_active, index=range(n), dtype=object)
    own[patient[active]] = np.asarray(outcomes["arm"].array[active], dtype=object)
    background = spec.arm(ref_active).background
    control = spec.arm(ref_control) if ref_control else STANDARD_COMPARATORS["saline"]
    control = control.model_copy(update={"background": background})
    eta_24, eta_end = _active_logodds(spec, model, own, patients)
    eta = {"control": _logodds_at(model, control, 24.0, patients)}
    for name, arm in STANDARD_COMPARATORS.items():
        arm = arm.model_copy(update={"background": background})
        eta[name] = _logodds_at(model, arm, 24.0, patients)
    baseline = np.empty(n)  # the active period's baseline if there was one, else the first's
    for rows in (first_rows(patient), active):
        baseline[patient[rows]] = outcomes["baseline_score"].to_numpy()[rows]
    noise = np.full(n, noise_sd)
    spreads = {a.name: a.change_spread for a in spec.all_arms()}
    spread = own.map(spreads).to_numpy(dtype=np.float64)

    def p(logodds: np.ndarray, spread: np.ndarray | float = 1.0) -> np.ndarray:
        return response_probability(logodds, baseline, 0.5, model, noise, spread)

    p_24 = p(eta_24, spread)
    lp = np.full(n, np.nan)
    lp[patient[active]] = outcomes["relapse_lp"].to_numpy()[active]
    columns = {
        "patient": np.arange(n),
        "active_arm": pd.Categorical(own.to_numpy()),
        "control_arm": frames.category(control.name, n),
        "trial_shift_expectancy": effects.expectancy,
        "trial_shift_drug": effects.drug,
        "logodds_active_24h": eta_24,
        "logodds_control_24h": eta["control"],
        "logodds_saline_24h": eta["saline"],
        "logodds_midazolam_24h": eta["midazolam"],
        "logodds_active_end": eta_end,
        "p_response_active_24h": p_24,
        "p_response_control_24h": p(eta["control"], control.change_spread),
        "p_response_saline_24h": p(eta["saline"]),
        "p_response_midazolam_24h": p(eta["midazolam"]),
        "p_response_active_end": p(eta_end, spread),
        "benefit_logodds_24h": eta_24 - eta["control"],
        "rating_noise_sd": noise,
        "change_spread_active": spread,
        "change_spread_control": np.full(n, control.change_spread),
        "relapse_lp": lp,
        "p_relapse_horizon": relapse_probability(model, lp, horizon_days),
        "relapse_horizon_days": horizon_days,
    }
    columns["benefit_risk_24h"] = p_24 - columns["p_response_control_24h"]
    for name in TRUE_COLUMNS:
        if name in covariates:
            columns[f"true_{name}"] = covariates[name].to_numpy(dtype=np.float64, copy=True)
    return pd.DataFrame(columns, copy=False)


def first_rows(patient: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """Indices of each patient's first row (among the rows `where` is true)."""
    rows = np.arange(len(patient)) if where is None else np.flatnonzero(where)
    _, first = np.unique(patient[rows], return_index=True)
    return rows[first]


def _active_logodds(
    spec: TrialSpec, model: EffectModel, own: pd.Series, patients: Patients
) -> tuple[np.ndarray, np.ndarray]:
    """True log-odds on each patient's own active arm at 24 h and at the end of its course."""
    n = len(own)
    eta_24, eta_end = np.empty(n), np.empty(n)
    for name in own.unique():
        arm, rows = spec.arm(name), (own == name).to_numpy()
        end = end_of_course_hours(spec.schedule_spec(name), arm)
        both = response_logodds(model, arm, np.array([24.0, end]), patients)
        eta_24[rows], eta_end[rows] = both[rows, 0], both[rows, 1]
    return eta_24, eta_end


def _logodds_at(model: EffectModel, arm: Arm, hours: float, patients: Patients) -> np.ndarray:
    return response_logodds(model, arm, np.array([hours]), patients)[:, 0]
