"""Walk one trial spec into patients, visits, outcomes and truth; pool several into a cohort.

Steps, in the order they draw from the trial's generator: baseline covariates, treatment
assignment, patient latent, trial effects, dropout, each arm-period's course (`course.py`),
missing values, the recorded covariates (measurement error). Outcomes and the truth use the
true covariates; the patients table has them as recorded."""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ketapredict.cohort import frames, phases, truth
from ketapredict.cohort.assign import assign_arms
from ketapredict.cohort.course import ArmPeriod, Trial, schedule, simulate_course
from ketapredict.cohort.effects import EffectModel
from ketapredict.cohort.frames import COHORT_TABLES, Cohort
from ketapredict.cohort.measurement import observe
from ketapredict.cohort.missing import draw_dropout, mask_covariates
from ketapredict.cohort.population import PopulationSpec, inclusion_criteria, sample_population
from ketapredict.cohort.specs import TrialSpec, population_for


def generate_trial(
    spec: TrialSpec,
    population: PopulationSpec,
    model: EffectModel,
    n: int,
    rng: np.random.Generator,
    *,
    id_offset: int = 0,
    horizon_days: float = 28.0,
    block_size: int | None = None,
    typical_trial: bool = False,
) -> Cohort:
    """Simulate `n` randomized patients of one trial design. With `block_size`, patients
    form consecutive blocks of that size, each randomized exactly as one trial of that size
    and drawing its own trial effects (how `replicate` simulates many trials in one vectorized
    call). `typical_trial`: every trial effect 0 (the design's population value).

    One BLAS thread: the generator's matrix products are thin, and OpenBLAS's second thread
    spins between them, holding a core that other work could use (at 1 M patients: about
    4 s of CPU for well under 1 s of wall time)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _generate_trial(
            spec, population, model, n, rng, id_offset, horizon_days, block_size, typical_trial
        )


def _generate_trial(
    spec: TrialSpec,
    population: PopulationSpec,
    model: EffectModel,
    n: int,
    rng: np.random.Generator,
    id_offset: int,
    horizon_days: float,
    block_size: int | None,
    typical_trial: bool,
) -> Cohort:
    cov = _baseline_covariates(spec, population, n, rng)
    blocks = np.arange(n) // (block_size or n)
    arms = assign_arms(spec, blocks, rng)
    latent = rng.standard_normal(n)
    effects = truth.draw_trial_effects(model, blocks, rng, typical=typical_trial)
    dropout = _dropout(spec, cov, arms.shape[1], rng, latent)
    trial = Trial(spec, model, rng, dropout, blocks, effects)
    visits, outcomes = _simulate_periods(trial, cov, arms, latent)
    true = truth.truth_table(spec, model, cov, outcomes, horizon_days, effects, trial.rating_sd)
    # missingness acts on the true values (MNAR: a value's own), then what is left is recorded
    masked = mask_covariates(spec.missingness, spec.missingness.columns, cov, rng)
    patients = observe(masked, spec.measurement, rng)
    return frames.finish(spec, patients, visits, outcomes, true, id_offset)


def _baseline_covariates(
    spec: TrialSpec, population: PopulationSpec, n: int, rng: np.random.Generator
) -> pd.DataFrame:
    """`n` patients of the trial's population who meet its inclusion criteria."""
    scale = spec.scale_spec()
    criteria = inclusion_criteria(spec.population.inclusion, lambda x: np.round(scale.factor * x))
    return sample_population(population_for(spec, population), n, rng, criteria=criteria)


def _dropout(
    spec: TrialSpec,
    cov: pd.DataFrame,
    n_periods: int,
    rng: np.random.Generator,
    latent: np.ndarray,
) -> np.ndarray:
    """Hours after enrolment at which each patient drops out of the whole trial, phases
    included (inf: never); MNAR dropout follows the patient latent (higher: better outcomes at
    every visit)."""
    horizon = 24.0 * (spec.washout_days * (n_periods - 1) + _course_days(spec))
    if spec.phases:
        horizon = phases.trial_hours(spec, n_periods)
    return draw_dropout(spec.dropout, cov, np.full(len(cov), horizon), rng, propensity=latent)


def _course_days(spec: TrialSpec) -> float:
    return max(a.session_hours()[-1] / 24.0 for a in spec.arms) + spec.follow_up_days


def _simulate_periods(
    trial: Trial, cov: pd.DataFrame, arms: np.ndarray, latent: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Visits and outcomes of every arm in every period, then of the phases after them; a
    later period's baseline keeps the part of an active period's improvement that has not
    washed out."""
    spec = trial.spec
    n, n_periods = arms.shape
    baseline = np.round(spec.scale_spec().factor * cov["baseline_madrs"].to_numpy())
    carry = np.zeros(n)
    visit_parts, outcome_parts = [], []
    windows = phases.period_windows(spec, n_periods)
    for period, (start, limit) in enumerate(windows):
        for a, arm in enumerate(spec.arms):
            idx = np.flatnonzero(arms[:, period] == a)
            if idx.size == 0:
                continue
            group = ArmPeriod(
                arm=arm,
                period=period,
                idx=idx,
                cov=frames.rows(cov, idx),
                baseline=np.maximum(np.round(baseline[idx] * (1 - carry[idx])), 1.0),
                latent=latent[idx],
                schedule=schedule(spec, arm, start_hours=start, limit_hours=limit),
            )
            visits, outcome, improvement = simulate_course(trial, group)
            visit_parts.append(visits)
            outcome_parts.append(outcome)
            if trial.is_active(arm) and n_periods > 1:
                carry[idx] = _carryover(trial, improvement)
    if spec.phases:
        randomized = frames.concat(outcome_parts)
        later = phases.simulate_phases(trial, cov, latent, randomized, n_periods)
        visit_parts, outcome_parts = visit_parts + later[0], outcome_parts + later[1]
    outcomes = frames.concat(outcome_parts, by=("patient", "period"))
    visits = frames.concat(visit_parts, by=("patient", "period", "hours"))
    return visits, outcomes


def _carryover(trial: Trial, improvement: np.ndarray) -> np.ndarray:
    """Share of the improvement still present at the next period's baseline."""
    decay = 0.5 ** (trial.spec.washout_days / trial.model.response.carryover_halflife_days)
    return decay * np.clip(improvement, 0, 1)


def generate_parts(
    trials: dict[str, TrialSpec],
    sizes: dict[str, int],
    population: PopulationSpec,
    model: EffectModel,
    *,
    seed: int | list[int],
    horizon_days: float,
    typical_trial: bool = False,
    workers: int = 1,
) -> Iterator[Cohort]:
    """Each design's cohort in turn, with ids following on from the design before; each draws
    from its own stream seeded by (seed, trial name), so adding a design never changes the
    patients of another. `typical_trial`: each design's trial shifts 0 (generate_trial).

    `workers` threads make that many designs at once, the largest first (it would otherwise
    be left to run alone at the end), then the others in order; each part is yielded in order
    as soon as it and those before it are made, and at most `workers` parts besides the
    largest are made ahead of the one taken. Threads suffice: numpy releases the GIL for most
    of the work (two threads: 1.7 times faster on two cores), and as each design has its own
    stream, the parts are the same whatever the number of threads."""
    calls, offset = [], 0
    for name, n in sizes.items():
        words = [*np.atleast_1d(seed).tolist(), zlib.crc32(name.encode())]
        calls.append(functools.partial(
            generate_trial, trials[name], population, model, n, np.random.default_rng(words),
            id_offset=offset, horizon_days=horizon_days, typical_trial=typical_trial,
        ))  # fmt: skip
        offset += n
    if workers <= 1 or len(calls) <= 1:
        yield from (call() for call in calls)
        return
    yield from _ahead(calls, list(sizes.values()), workers)


def _ahead(calls: list[Callable[[], Cohort]], sizes: list[int], workers: int) -> Iterator[Cohort]:
    """The results of `calls` in order, made by `workers` threads as generate_parts says."""
    largest = int(np.argmax(sizes))
    order = iter([largest, *(i for i in range(len(calls)) if i != largest)])
    made: dict[int, Future[Cohort]] = {}
    # the BLAS limit of generate_trial, held here too: a thread leaving its own limit would
    # otherwise give another thread's products the library's default back
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        try:
            for i in range(len(calls)):
                while i not in made or len(made) <= workers:
                    nxt = next(order, None)
                    if nxt is None:
                        break
                    made[nxt] = pool.submit(calls[nxt])
                yield made.pop(i).result()
        finally:  # an error, or the caller stopped early: no design is begun after it
            for future in made.values():
                future.cancel()


def generate_cohort(
    trials: dict[str, TrialSpec],
    sizes: dict[str, int],
    population: PopulationSpec,
    model: EffectModel,
    *,
    seed: int | list[int],
    horizon_days: float,
    typical_trial: bool = False,
) -> Cohort:
    """The designs of `generate_parts` pooled into one cohort."""
    parts = generate_parts(
        trials, sizes, population, model, seed=seed, horizon_days=horizon_days,
        typical_trial=typical_trial,
    )  # fmt: skip
    return pool(parts)


def pool(parts: Iterable[Cohort]) -> Cohort:
    """Several designs' cohorts as one, table by table."""
    parts = list(parts)
    return Cohort(*[frames.concat([getattr(p, t) for p in parts]) for t in COHORT_TABLES])
