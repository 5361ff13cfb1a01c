"""The study's cells: one development cohort of n patients of a design (or the pooled mix),
one learner fitted on it as the pipeline fits it, scored against the truth on that design's
fixed reference sample. A cell is pure: its parameters (and the study's) decide its result,
whichever worker runs it, so results do not depend on the number of workers."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ketapredict import explain as ex
from ketapredict import metrics
from ketapredict.cohort.generate import generate_cohort
from ketapredict.cohort.specs import Specs
from ketapredict.datasets import responder_table
from ketapredict.errors import DataError
from ketapredict.features import build_features, feature_names

TASK = "responder"
LEARNERS = ("logistic", "penalized_logistic", "lightgbm")
POOLED = "pooled"  # the mix of generate.cohorts, in its proportions
SLOPE_BAND = (0.9, 1.1)
SHAP_ROWS = 2_000  # reference patients SHAP is read on: importances are means


@dataclass(frozen=True)
class Cell:
    design: str
    scenario: str
    learner: str
    n: int
    replicate: int

    @property
    def key(self) -> str:
        return f"{self.design}|{self.scenario}|{self.learner}|n={self.n}|r={self.replicate}"

    @property
    def file(self) -> str:
        """A file name unique to the cell (its key's digest, its parameters readable)."""
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:12]
        return f"{self.design}-{self.scenario}-{self.learner}-n{self.n}-r{self.replicate}-{digest}"

    def cohort_seed(self, seed: int) -> list[int]:
        """The development cohort's seed: every learner of one (design, scenario, n,
        replicate) fits the same patients (common random numbers: paired learners)."""
        words = f"{self.design}|{self.scenario}|{self.n}|{self.replicate}"
        return [seed, zlib.crc32(words.encode())]


@dataclass(frozen=True)
class Settings:
    """What every cell shares: the study's seed, the label, and LightGBM's training procedure
    and search (the pipeline's, with as many candidates as the plan affords)."""

    seed: int
    threshold: float
    horizon_days: float
    procedure: Any  # ketapredict.train.Procedure
    search: Any  # config.SearchSpace


def sizes_of(design: str, n: int, mix: dict[str, int]) -> dict[str, int]:
    """Patients per design: all n in one design, or n split as `mix` splits its patients
    (largest remainders, so the parts add up to n)."""
    if design != POOLED:
        return {design: n}
    total = sum(mix.values())
    exact = {k: n * v / total for k, v in mix.items()}
    out = {k: int(np.floor(x)) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: out[k] - exact[k])[: n - sum(out.values())]:
        out[k] += 1
    return {k: v for k, v in out.items() if v > 0}


def typical_cohort(specs: Specs, sizes: dict[str, int], seed: list[int], settings: Settings):
    """A cohort generated with `seed`, each design as its typical trial (between-trial shifts
    0): development and reference patients come from one population, so the study measures
    what sample size does, not what moving to another trial of the design does (the
    evaluate stage's internal-external validation asks that)."""
    return generate_cohort(
        specs.trials,
        sizes,
        specs.population,
        specs.model,
        seed=seed,
        horizon_days=settings.horizon_days,
        typical_trial=True,
    )


def responder_rows(
    specs: Specs, sizes: dict[str, int], seed: list[int], settings: Settings
) -> pd.DataFrame:
    """The responder table (24 h label) of a typical_cohort."""
    cohort = typical_cohort(specs, sizes, seed, settings)
    table = responder_table(
        cohort.patients,
        cohort.visits,
        cohort.outcomes,
        cohort.truth,
        visit="24h",
        threshold=settings.threshold,
        model=specs.model,
    )
    return table.frame


@dataclass
class Reference:
    """A design's fixed evaluation sample: the features, labels, true probabilities, the
    oracle's AUROC, the true contributions and the aliased blocks SHAP is scored with."""

    X: pd.DataFrame
    y: np.ndarray
    p_true: np.ndarray
    oracle_auroc: float
    r2_cs: float
    shap_rows: pd.DataFrame  # the first SHAP_ROWS rows, raw
    truth: pd.DataFrame  # true contributions of those rows, per characteristic
    blocks: list[list[str]]


def make_reference(
    specs: Specs, design: str, size: int, mix: dict[str, int], seed: int, settings: Settings
) -> Reference:
    from ketapredict.plan.riley import cox_snell_r2

    rows = responder_rows(specs, sizes_of(design, size, mix), [seed, 0xE7A1], settings)
    X = build_features(rows, TASK)[feature_names(TASK)]
    y, p_true = rows["y"].to_numpy(), rows["p_true"].to_numpy()
    some = rows.iloc[:SHAP_ROWS].reset_index(drop=True)
    dose = np.array(
        [
            specs.model.dose_factor(d, r, x)
            for d, r, x in zip(some["drug"], some["route"], some["dose"], strict=True)
        ]
    )
    truth = ex.true_contributions(TASK, some, specs.model, dose)
    return Reference(
        X,
        y,
        p_true,
        float(metrics.auroc(y, p_true)),
        cox_snell_r2(p_true),
        some,
        truth,
        ex.aliased_blocks(rows, TASK),
    )


def run_cell(
    cell: Cell, specs: Specs, reference: Reference, mix: dict[str, int], settings: Settings
) -> dict[str, Any]:
    """Generate the development cohort, fit the learner, score it on the reference."""
    rows = responder_rows(
        specs, sizes_of(cell.design, cell.n, mix), cell.cohort_seed(settings.seed), settings
    )
    y = rows["y"].to_numpy()
    if len(np.unique(y)) < 2:
        raise DataError(f"{cell.key}: the development cohort has only one outcome class")
    X = build_features(rows, TASK)[feature_names(TASK)]
    predict, explain = _fit(cell.learner, X, y, rows, settings)
    p = predict(reference.X)
    intercept, slope = calibration_vs_truth(reference.p_true, p)
    errors = metrics.calibration_error_vs_truth(p, reference.p_true)
    auroc = float(metrics.auroc(reference.y, p))
    shap_x = reference.X.iloc[: len(reference.shap_rows)]
    summary, _ = ex.block_recovery(
        explain(shap_x), reference.truth, reference.shap_rows, reference.blocks
    )
    return {
        **asdict(cell),
        "events": int(y.sum()),
        "auroc": auroc,
        "auroc_ratio": auroc / reference.oracle_auroc,
        "calibration_slope": float(slope),
        "calibration_intercept": float(intercept),
        "slope_in_band": bool(SLOPE_BAND[0] <= slope <= SLOPE_BAND[1]),
        "mean_abs_error": errors["mean_abs"],
        "e90": errors["e90"],
        "top5_overlap": summary["top5_overlap"],
    }


def calibration_vs_truth(p_true: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Calibration intercept and slope of `p` against the true probabilities: the logistic
    recalibration fit to the expected outcomes (each patient an event with weight p_true and a
    non-event with weight 1 - p_true). Fitting to the reference's observed outcomes instead
    adds that one sample's noise to every cell alike: with 10,000 patients and a weak signal
    (oracle AUROC 0.63) it shifted every learner's slope by about -0.12 (measured)."""
    y = np.concatenate([np.ones(len(p)), np.zeros(len(p))])
    return metrics.calibration_intercept_slope(
        y, np.concatenate([p, p]), np.concatenate([p_true, 1 - p_true])
    )


def _fit(learner: str, X: pd.DataFrame, y: np.ndarray, rows: pd.DataFrame, settings: Settings):
    """The learner fitted as the pipeline fits it; returns (probabilities of a frame, its
    per-characteristic contributions on a frame)."""
    w = rows["weight"].to_numpy(dtype=float)
    if learner in ("logistic", "penalized_logistic"):
        from ketapredict.baseline import fit_baseline

        pipe = fit_baseline(X, y, w)
        if learner == "logistic":  # maximum likelihood: what Riley's criteria are about
            pipe.set_params(logistic__C=np.inf).fit(X, y, logistic__sample_weight=w)
        return (
            lambda Z: pipe.predict_proba(Z)[:, 1],
            lambda Z: ex.baseline_importance(pipe, Z, TASK)[1],
        )
    if learner != "lightgbm":
        raise DataError(f"unknown learner {learner!r}; choose one of {', '.join(LEARNERS)}")
    from ketapredict import train

    candidates = train.draw_candidates(settings.search, np.random.default_rng(settings.seed))
    groups = rows["patient_id"].to_numpy()
    tuning, booster = train.fit_procedure(
        X, y, w, groups, settings.procedure, candidates=candidates
    )
    model = train.package(booster, X, tuning, task=TASK)
    return model.predict_matrix, lambda Z: ex.by_characteristic(ex.tree_shap(model, Z), TASK)
