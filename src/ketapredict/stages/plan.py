"""The `plan` stage: the simulation study of params.yaml's `plan` section run on Dask (what is
missing only), then summarized in reports/plan/: summary.json (DVC metrics), the grid's cells
and the patients each criterion needs (CSV), learning curves (DVC plots and figures), and the
study written up in the ADEMP structure (Morris et al., Stat Med 2019); logged to MLflow."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ketapredict import tracking
from ketapredict.config import Params
from ketapredict.errors import KetapredictError
from ketapredict.io import json_safe, write_bytes, write_json, write_text
from ketapredict.layout import Layout
from ketapredict.plan import engine
from ketapredict.plan import summary as s
from ketapredict.plan.benefit_cells import BENEFIT_LEARNERS
from ketapredict.plan.study import Study, make_study, run_study

log = logging.getLogger(__name__)
STAGE = "plan"
CURVES = ("calibration_slope", "auroc_ratio", "top5_overlap", "pehe", "c_for_benefit")


class PlanError(KetapredictError):
    """Some cells failed: the others are stored, a rerun computes only the failed ones."""


def run(
    paths: Layout,
    params: Params,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: engine.Progress | None = None,
) -> dict[str, Any]:
    study = make_study(paths, params)
    cells = study.cells
    log.info("plan: %d cells (%s); stored under %s", len(cells), _shape(study), study.folder(paths))
    outcome, references = run_study(
        paths, study, scheduler=scheduler, workers=workers, progress=progress
    )
    failed = engine.failures(study.folder(paths))
    wanted = {c.key for c in cells}
    failed = {k: v for k, v in failed.items() if k in wanted}
    if failed:
        first, error = next(iter(failed.items()))
        raise PlanError(
            f"{len(failed)} of {len(cells)} cells failed (first: {first}: {error}); the others "
            f"are stored: fix the cause and run `ketapredict plan` again to compute only these"
        )
    rows = engine.stored_cells(study.folder(paths))
    rows = rows[
        [
            f"{r.design}|{r.scenario}|{r.learner}|n={r.n}|r={r.replicate}" in wanted
            for r in rows.itertuples()
        ]
    ]
    report = _report(paths, study, rows, references, outcome)
    log.info(
        "plan: %d cells computed, %d stored before, in %.0f s on %d workers",
        outcome.computed,
        outcome.stored,
        outcome.seconds,
        outcome.workers,
    )
    return report


def _shape(study: Study) -> str:
    p = study.plan
    return (
        f"{len(p.designs)} design(s) x {len(p.scenarios)} scenario(s) x {len(p.learners)} "
        f"learner(s) x {len(p.sizes)} sizes x {p.replicates} replicates"
    )


def _report(paths: Layout, study: Study, rows: pd.DataFrame, references, outcome) -> dict:
    from ketapredict.plots import save_png
    from ketapredict.plots.plan import BENEFIT_PANELS, plot_learning_curves

    out = paths.plan_reports
    table = s.cell_table(rows)
    needed = s.needed(table)
    riley = s.riley_table(references)
    versus = s.against_riley(table, riley)
    write_text(table.to_csv(index=False), out / "cells.csv")
    write_text(needed.to_csv(index=False), out / "needed.csv")
    write_text(riley.to_csv(index=False), out / "riley.csv")
    for measure in CURVES:  # one file per learner and measure, as dvc plots reads
        for (design, scenario, learner), t in table.groupby(s.GRID[:3]):
            if f"{measure}_mean" not in t or t[f"{measure}_mean"].isna().all():
                continue  # not this learner's measure
            curve = t[["n", f"{measure}_mean", f"{measure}_q10", f"{measure}_q90"]]
            curve.columns = ["n", "mean", "q10", "q90"]
            name = f"{measure}_{design}_{scenario}_{learner}.csv"
            write_text(curve.to_csv(index=False), out / "curves" / name)
    figures = {}
    benefit = table["learner"].isin(BENEFIT_LEARNERS)
    for (design, scenario), t in table[~benefit].groupby(["design", "scenario"]):
        r = riley[(riley["design"] == design) & (riley["scenario"] == scenario)]
        fig = plot_learning_curves(
            t,
            title=f"Learning curves: {design}, {scenario}",
            riley_n=float(r["criterion_1"].iloc[0]) if len(r) else None,
        )
        figures[(design, scenario)] = out / "figures" / f"learning_curves_{design}_{scenario}.png"
        write_bytes(save_png(fig), figures[(design, scenario)])
    for (design, scenario), t in table[benefit].groupby(["design", "scenario"]):
        title = f"Benefit learners: {design}, {scenario} (randomized designs)"
        fig = plot_learning_curves(t, title=title, riley_n=None, panels=BENEFIT_PANELS)
        path = out / "figures" / f"benefit_curves_{design}_{scenario}.png"
        figures[(design, scenario, "benefit")] = path
        write_bytes(save_png(fig), path)
    largest = table.groupby(s.GRID[:3])["n"].transform("max") == table["n"]
    mcse = [c for c in table.columns if c.endswith("_mcse") and c.split("_mcse")[0] in s.CRITERIA]
    summary = {
        "fingerprint": study.fingerprint,
        "grid": study.plan.grid,
        "cells": len(rows),
        "computed_this_run": outcome.computed,
        "largest_proportion_mcse": float(table[mcse].max().max()) if len(table) else None,
        "riley": riley.to_dict(orient="records"),
        "logistic_vs_riley": versus.to_dict(orient="records"),
        "needed": needed.to_dict(orient="records"),
        "at_largest_n": table[largest][
            [*s.GRID, "calibration_slope_mean", "auroc_ratio_mean", "top5_overlap_mean"]
        ].to_dict(orient="records"),
    }
    summary = json_safe(summary)
    write_json(summary, paths.plan_summary)
    write_text(ademp(study, table, needed, riley, versus), out / "ademp.md")
    _log(paths, study, summary, figures)
    return summary


def _log(paths: Layout, study: Study, summary: dict, figures: dict) -> None:
    p = study.plan
    with tracking.start_run(
        root=paths.root,
        stage=STAGE,
        params={"plan": p.model_dump()},
        run_name="plan · study sizes",
        tags={"fingerprint": study.fingerprint},
    ):
        for rec in summary["logistic_vs_riley"]:
            if rec["ratio"] is not None:
                tracking.log_metrics({f"{rec['design']}_{rec['scenario']}_vs_riley": rec["ratio"]})
        for png in figures.values():
            tracking.log_file_artifact(png, "plan")
        for name in ("ademp.md", "needed.csv", "riley.csv", "cells.csv"):
            tracking.log_file_artifact(paths.plan_reports / name, "plan")


def ademp(study: Study, table, needed, riley, versus) -> str:
    """The study written up as Morris et al. (2019) ask: aims, data-generating mechanisms,
    estimands, methods, performance measures, then the results."""
    p = study.plan

    return f"""# How many patients? A simulation study (ketapredict plan)

Fingerprint `{study.fingerprint}`; grid `{p.grid}`. Research use only.

## Aims
How many development patients a model of response at 24 h needs, per trial design, before
it is calibrated (slope within 0.9-1.1), close to the best achievable (AUROC at least 0.95 x
the oracle's) and pointing at the right characteristics (SHAP top 5 overlapping the truth's
top 5 by at least 0.8); and how that compares with Riley's criteria computed from the truth.

## Data-generating mechanisms
The ketapredict generator under scenario(s) {", ".join(p.scenarios)}; design(s)
{", ".join(p.designs)} (`pooled`: generate.cohorts' mix). Development cohorts of
{", ".join(f"{n:,}" for n in p.sizes)} patients, {p.replicates} replicates each, each with its
own seed (every learner of one size and replicate fits the same patients). Each is scored on
one fixed reference sample of {p.population:,} patients of its design and scenario.

## Estimands
The true probability of response at 24 h of each reference patient; the true contributions
of each characteristic (aliased characteristics as blocks); the oracle's AUROC.

## Methods
{", ".join(p.learners)}: logistic = maximum likelihood on the pipeline's features (median
imputation with indicators, standardised); penalized_logistic = the pipeline's logistic
baseline (L2, C = 1); lightgbm = the pipeline's training procedure (grouped CV, early
stopping, calibration choice) over {p.lightgbm_candidates} candidate(s) of its search grid.
Benefit learners: {", ".join(p.benefit_learners) or "none"} (the benefit task's, fitted on
the randomized contrasts of the designs with a concurrent comparator; scored by PEHE,
Spearman and c-for-benefit against each reference patient's true benefit; "benefit
detectable" when the learner passes the pipeline's gate on the development data).

## Performance measures
AUROC / oracle AUROC, calibration slope and intercept, mean absolute and 90th-percentile
error against the true probabilities, slope within [0.9, 1.1], SHAP top-5 overlap; per grid
cell the mean with its Monte Carlo SE and 10th/50th/90th percentiles, and the share of
replicates meeting each criterion with its MC SE.

## Results
Riley's criteria from the true R² (Cox-Snell), prevalence and parameters:

{_markdown(riley)}

Logistic learner: where its mean calibration slope reaches 0.9, against criterion 1:

{_markdown(versus)}

Patients needed (smallest n of the grid at which a criterion holds in at least 80 % of
replicates; empty: not within the grid):

{_markdown(needed)}
"""


def _markdown(frame: pd.DataFrame) -> str:
    """A Markdown table (numbers to 3 significant digits, missing values empty)."""
    if not len(frame):
        return "(none)"

    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
        return f"{v:,}" if isinstance(v, int) and abs(v) >= 1000 else str(v)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)
