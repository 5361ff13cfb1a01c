"""External validation: any registered (or exported) model on a cohort with outcomes.

The cohort is checked and labelled exactly as the import path labels it (the same task
tables: labels, IPCW weights per study), then judged as the evaluate stage judges its test
data -- discrimination, calibration, decision curves, subgroups, all with bootstrap
intervals -- so the same patients give the same numbers. Optionally recalibrated in the large
(the intercept re-estimated on this cohort, the slope kept): how the model would do after the
simplest local update. Nothing is written unless the whole validation succeeds.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ketapredict import evaluate as ev
from ketapredict.config import EvaluateParams, FeaturesParams
from ketapredict.contract import MODEL, TASKS
from ketapredict.errors import DataError, ModelError
from ketapredict.features import build_features, feature_names
from ketapredict.io import write_json, write_text
from ketapredict.metrics.inputs import clipped_logit
from ketapredict.metrics.logistic import fit_logistic
from ketapredict.subgroups import subgroups

log = logging.getLogger(__name__)
RECALIBRATED = f"{MODEL}, recalibrated in the large"


@dataclass
class Validation:
    """A model on a cohort: the measures (one row per model variant), subgroups, curves."""

    task: str
    rows: int
    events: int
    summary: dict[str, dict[str, float]]
    tables: dict[str, pd.DataFrame]
    intercept_shift: float | None


def validate(
    data: list[Path],
    model: Any,
    *,
    features: FeaturesParams,
    evaluate: EvaluateParams,
    id_column: str,
    recalibrate: bool = False,
) -> Validation:
    """The model (a KetaModel) on the cohort in `data` (either input shape)."""
    from ketapredict.intake.build import task_tables
    from ketapredict.intake.check import check

    task = model.task
    if task not in TASKS:
        raise ModelError(f"validate takes a responder or relapse model, not a {task} model")
    report = check(data, id_column=id_column)
    report.refuse("the data", " ".join(str(p) for p in data))
    tables = task_tables(report, features)
    if task not in tables:
        raise DataError(f"the data have no {task} table for this {task} model")
    table = tables[task].frame
    table = table[table["weight"] > 0].reset_index(drop=True)
    y = table["y"].to_numpy(float)
    if y.sum() < 1 or (1 - y).sum() < 1:
        raise DataError(f"the cohort has only one outcome class for the {task} task")
    p = model.predict_matrix(build_features(table, task)[feature_names(task)])
    predictions = {MODEL: p}
    shift = None
    if recalibrate:
        shift = _intercept_shift(y, p, table["weight"].to_numpy(float))
        predictions[RECALIBRATED] = expit(clipped_logit(p) + shift)
    rng = np.random.default_rng([evaluate.seed, TASKS.index(task)])
    step = evaluate.threshold_step
    thresholds = np.round(np.arange(step, 1 - step / 2, step), 6)
    result = ev.evaluate_test(
        table, predictions, rng=rng, resamples=evaluate.bootstrap_resamples, thresholds=thresholds
    )
    tables = {
        "measures": pd.DataFrame(result.summary).T.rename_axis("model").reset_index(),
        "subgroups": subgroups(
            table, p, rng=rng, resamples=evaluate.bootstrap_resamples,
            min_rows=evaluate.subgroup_min_rows,
        ),
        "decision_curve": result.curves["decision"],
    }  # fmt: skip
    return Validation(task, len(table), int(y.sum()), result.summary, tables, shift)


def _intercept_shift(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float:
    """Recalibration in the large: the intercept a on logit(p) as an offset (slope kept at 1)."""
    beta, _ = fit_logistic(np.ones((len(y), 1)), y, w[None, :], offset=clipped_logit(p))
    return float(beta[0, 0])


def write(result: Validation, out: Path, info: dict[str, Any]) -> list[Path]:
    """The validation's tables and summary in `out`, written whole: into a temporary folder
    beside it first, moved into place only when every file is written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, frame in result.tables.items():
            write_text(frame.to_csv(index=False), tmp / f"{name}.csv")
        summary = {
            "task": result.task,
            "model": info,
            "rows": result.rows,
            "events": result.events,
            "oracle": "none: external validation has no truth",
            "recalibration_in_the_large": result.intercept_shift,
            "measures": result.summary,
        }
        write_json(summary, tmp / "summary.json")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sorted(out.iterdir())


def describe(result: Validation) -> list[str]:
    """One line per model variant: AUROC and calibration with their intervals."""
    lines = [f"{result.task}: {result.rows} rows, {result.events} events"]
    for name, m in result.summary.items():
        lines.append(
            f"{name}: AUROC {m['auroc']:.3f} ({m['auroc_low']:.3f}-{m['auroc_high']:.3f}), "
            f"calibration intercept {m['calibration_intercept']:.2f}, slope "
            f"{m['calibration_slope']:.2f}, Brier {m['brier']:.3f}"
        )
    if result.intercept_shift is not None:
        lines.append(f"recalibration in the large: intercept shift {result.intercept_shift:+.3f}")
    return lines
