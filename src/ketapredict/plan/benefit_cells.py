"""The study's benefit cells: a development cohort of n patients of the randomized designs
(those with a concurrent comparator, as the benefit task has them), one benefit learner
fitted on its randomized contrasts, its estimates scored against the true benefit of a fixed
reference sample (PEHE, Spearman, c-for-benefit), and whether the benefit is *detectable*:
whether the learner passes the pipeline's own gate on the development data (its
cross-fitted estimates predict the observed contrast, slope's 95 % interval above 0)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ketapredict.benefit import measures as m
from ketapredict.benefit.data import benefit_data, benefit_table, input_matrix
from ketapredict.benefit.learners import LEARNERS, benefit_folds, fit_learner
from ketapredict.benefit.patients import contrast_slope, per_patient
from ketapredict.cohort.specs import Specs
from ketapredict.contract import ID
from ketapredict.errors import DataError
from ketapredict.plan.cells import POOLED, Cell, Settings, sizes_of, typical_cohort

# The naive score estimates no benefit; every other learner of the benefit task can be asked.
BENEFIT_LEARNERS = tuple(name for name in LEARNERS if name != "prognostic")
GATE_FOLDS = 3


def benefit_rows(specs: Specs, sizes: dict[str, int], seed: list[int], settings: Settings):
    """The benefit table of a cells.typical_cohort."""
    cohort = typical_cohort(specs, sizes, seed, settings)
    return benefit_table(
        cohort.patients,
        cohort.visits,
        cohort.outcomes,
        cohort.truth,
        threshold=settings.threshold,
        model=specs.model,
    ).frame


def randomized(specs: Specs, designs: list[str], settings: Settings) -> list[str]:
    """The designs whose patients the benefit task has (a concurrent comparator): found by
    simulating 40 patients of each."""
    found = benefit_rows(specs, dict.fromkeys(designs, 40), [0], settings)
    return [d for d in designs if (found["trial"] == d).any()]


def benefit_sizes(design: str, n: int, mix: dict[str, int], designs: list[str]) -> dict[str, int]:
    """sizes_of, the pooled mix restricted to the randomized designs."""
    if design == POOLED:
        return sizes_of(POOLED, n, {k: v for k, v in mix.items() if k in designs})
    return sizes_of(design, n, mix)


@dataclass
class BenefitReference:
    X: np.ndarray  # each reference patient at the start of a course
    truth: np.ndarray  # their true benefit against their design's comparator


def make_benefit_reference(
    specs: Specs,
    design: str,
    size: int,
    mix: dict[str, int],
    designs: list[str],
    seed: int,
    settings: Settings,
) -> BenefitReference:
    rows = benefit_rows(specs, benefit_sizes(design, size, mix, designs), [seed, 0xBE7], settings)
    people = per_patient(rows)
    return BenefitReference(input_matrix(people), people["benefit_true"].to_numpy())


def run_benefit_cell(
    cell: Cell,
    specs: Specs,
    reference: BenefitReference,
    mix: dict[str, int],
    designs: list[str],
    settings: Settings,
) -> dict[str, Any]:
    rows = benefit_rows(
        specs,
        benefit_sizes(cell.design, cell.n, mix, designs),
        cell.cohort_seed(settings.seed),
        settings,
    )
    data = benefit_data(rows)
    if len(np.unique(data.treated)) < 2 or len(np.unique(data.y)) < 2:
        raise DataError(f"{cell.key}: the development cohort lacks an arm or an outcome class")
    estimate = fit_learner(cell.learner, data, seed=settings.seed).effect(reference.X)
    slope, low, _ = _gate(cell.learner, rows, settings.seed)
    return {
        **asdict(cell),
        "events": int(data.y.sum()),
        "pehe": m.pehe(estimate, reference.truth),
        "benefit_spearman": m.benefit_spearman(estimate, reference.truth),
        "c_for_benefit": m.c_for_benefit_true(estimate, reference.truth),
        "contrast_slope": slope,
        "benefit_detectable": bool(np.isfinite(low) and low > 0),
    }


def _gate(learner: str, rows, seed: int) -> tuple[float, float, float]:
    """The pipeline's gate on the development data (stages.train_benefit): each patient's
    estimate from a fit without them, at their start-of-course inputs, against their
    observed contrast."""
    data, people = benefit_data(rows), per_patient(rows)
    X, where = input_matrix(people), {p: i for i, p in enumerate(people[ID])}
    estimate = np.full(len(people), np.nan)
    for fit_rows, held_rows in benefit_folds(data, folds=GATE_FOLDS, seed=seed):
        held = np.array(sorted({where[p] for p in data.groups[held_rows]}))
        estimate[held] = fit_learner(learner, data.take(fit_rows), seed=seed).effect(X[held])
    return contrast_slope(estimate, people["contrast"].to_numpy())
