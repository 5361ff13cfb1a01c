"""The `evaluate` stage: both models on the held-out test data -> reports/metrics.json,
curve data for `dvc plots`, tables and figures, all logged to each model's MLflow run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ketapredict import evaluate as ev
from ketapredict import metrics, tracking, train
from ketapredict.baseline import load_baseline
from ketapredict.config import EvaluateParams
from ketapredict.contract import BASELINE, FOLDERS, ID, MODEL, ORACLE, TASKS, Task
from ketapredict.datasets import NO_ORACLE
from ketapredict.features import build_features, feature_names
from ketapredict.io import read_json, read_parquet, write_bytes, write_json, write_text
from ketapredict.layout import Layout
from ketapredict.model import KetaModel
from ketapredict.parallel import workers_for
from ketapredict.plain_names import plain
from ketapredict.subgroups import ALPHA, subgroups

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskEvaluation:
    """One task's models on its held-out test data, and the model they describe."""

    task: Task
    model_version: str
    run_id: str  # the model's training run, where evaluation adds its results
    result: ev.Evaluation
    optimism: dict[str, Any]  # Harrell's bootstrap on the development data


def evaluate_task(paths: Layout, task: Task, params: EvaluateParams) -> TaskEvaluation:
    """Both models and the oracle on the test split, subgroups, designs and optimism."""
    rng = np.random.default_rng([params.seed, TASKS.index(task)])
    table = read_parquet(paths.table(task))
    model = KetaModel.load(paths.trained_model(task))
    baseline = load_baseline(paths.trained(task))
    X_all = build_features(table, task)[feature_names(task)]
    is_test = (table["split"] == "test").to_numpy()
    test, X = table[is_test].reset_index(drop=True), X_all[is_test].reset_index(drop=True)
    predictions = {MODEL: model.predict_matrix(X), BASELINE: baseline.predict_proba(X)[:, 1]}
    step = params.threshold_step
    thresholds = np.round(np.arange(step, 1 - step / 2, step), 6)
    result = ev.evaluate_test(
        test, predictions, rng=rng, resamples=params.bootstrap_resamples, thresholds=thresholds
    )
    result.tables["subgroups"] = subgroups(
        test,
        predictions[MODEL],
        rng=rng,
        resamples=params.bootstrap_resamples,
        min_rows=params.subgroup_min_rows,
    )
    train_rows = table[~is_test].reset_index(drop=True)
    result.designs, result.tables["within_design"] = ev.by_design(
        train_rows,
        test,
        predictions,
        rng=rng,
        resamples=params.bootstrap_resamples,
        min_rows=params.subgroup_min_rows,
    )
    refits = params.optimism_resamples + 1 + table["trial"].nunique()
    fit_predict, workers = train.refit(model), workers_for(len(train_rows), refits)
    optimism = metrics.optimism_corrected(
        fit_predict,
        X_all[~is_test].reset_index(drop=True),
        train_rows["y"].to_numpy(float),
        train_rows["weight"].to_numpy(float),
        groups=train_rows[ID].to_numpy(),
        rng=rng,
        n_resamples=params.optimism_resamples,
        workers=workers,
    )
    result.tables["internal_external"] = ev.internal_external(
        table, X_all, fit_predict, min_rows=params.subgroup_min_rows, workers=workers
    )
    registry = read_json(paths.registry_record(task))
    return TaskEvaluation(task, registry["version"], registry["run_id"], result, optimism)


def _summary(out: TaskEvaluation) -> dict[str, Any]:
    result = out.result
    subgroups, ie = result.tables["subgroups"], result.tables["internal_external"]
    return {
        "model_version": out.model_version,
        "test": result.summary[MODEL],
        "baseline": result.summary[BASELINE],
        "oracle": result.summary.get(ORACLE, NO_ORACLE),
        "paired": result.paired,
        "designs": result.designs,
        "optimism": out.optimism,
        "subgroups_flagged": int(subgroups["flag"].sum()) if len(subgroups) else 0,
        "internal_external": {
            "designs": len(ie),
            "auroc_min": float(ie["auroc"].min()) if len(ie) else None,
            "auroc_max": float(ie["auroc"].max()) if len(ie) else None,
        },
    }


def write_curves(paths: Layout, task: Task, result: ev.Evaluation) -> None:
    """Curve data for `dvc plots` (one file per curve and model; decision curves wide)."""
    for key, frame in result.curves.items():
        kind, _, name = key.partition(":")
        if name:
            write_text(frame.to_csv(index=False), _plot(paths, task, f"{kind}_{FOLDERS[name]}"))
    binned = result.curves["calibration_binned"]
    write_text(binned.to_csv(index=False), _plot(paths, task, "calibration_binned"))
    for kind in ("decision", "counterfactual"):
        if kind in result.curves:
            wide = result.curves[kind].pivot(
                index="threshold", columns="strategy", values="net_benefit"
            )
            wide.columns = [c.split(" (")[0].lower().replace(" ", "_") for c in wide.columns]
            write_text(wide.reset_index().to_csv(index=False), _plot(paths, task, kind))


def _plot(paths: Layout, task: Task, name: str) -> Path:
    """A curve's file for `dvc plots` (dvc.yaml's plots section names the same files)."""
    return paths.stage_table("plots", task, name)


def figures(result: ev.Evaluation, task: Task) -> dict[str, Any]:
    from ketapredict import plots

    c, s = result.curves, result.summary
    names = [n for n in (MODEL, BASELINE, ORACLE) if f"roc:{n}" in c]
    aurocs = {n: (s[n]["auroc"], s[n]["auroc_low"], s[n]["auroc_high"]) for n in names}
    title = f"{task.capitalize()} model, held-out test data"
    out = {
        "roc": plots.plot_roc({n: c[f"roc:{n}"] for n in names}, aurocs, title=title),
        "pr": plots.plot_pr({n: c[f"pr:{n}"] for n in names}, s[MODEL]["prevalence"], title=title),
        "calibration": plots.plot_calibration(
            {n: c[f"calibration:{n}"] for n in names}, c["calibration_binned"], title=title
        ),
        "decision_curve": plots.plot_decision_curve(c["decision"], title=title),
    }
    if "counterfactual" in c:
        out["counterfactual_decision_curve"] = plots.plot_decision_curve(
            c["counterfactual"],
            title="Give ketamine if predicted response >= t (true outcomes)",
            ylabel="Net benefit (responses per patient)",
        )
    if len(result.tables["subgroups"]):
        table = result.tables["subgroups"]
        table = table.assign(group=table["group"].map(plain))
        if "p_auroc_holm" in table:  # the figure is of AUROC: mark the AUROC flags only
            table = table.assign(flag=table["p_auroc_holm"] < ALPHA)
        out["subgroups"] = plots.plot_subgroups(
            table,
            overall=s[MODEL]["auroc"],
            title=f"{task.capitalize()}: AUROC by subgroup",
            flag_label="Ranks worse than the oracle (Holm)",
        )
    return out


def run(paths: Layout, params: EvaluateParams) -> dict[str, Any]:
    """Evaluate each task's models, write tables, curves and figures, log them to the model's
    training run; reports/metrics.json summarises both tasks, and the benefit learners'
    evaluation (reports/benefit/metrics.json) under `benefit`."""
    report: dict[str, Any] = {}
    for task in TASKS:
        out = evaluate_task(paths, task, params)
        report[task] = _summary(out)
        write_curves(paths, task, out.result)
        measures = pd.DataFrame(out.result.summary).T.rename_axis("model").reset_index()
        tables = {"measures": measures, **out.result.tables}
        for name, frame in tables.items():
            write_text(frame.to_csv(index=False), paths.stage_table("evaluate", task, name))
        pngs = _write_figures(paths, task, out.result)
        with tracking.resume_run(root=paths.root, run_id=out.run_id, stage="evaluate"):
            _log(report[task], read_json(paths.registry_record(task)))
            for png in pngs.values():
                tracking.log_file_artifact(png, "evaluation")
            for name in tables:
                tracking.log_file_artifact(paths.stage_table("evaluate", task, name), "evaluation")
        t, o = report[task]["test"], report[task]["oracle"]
        log.info(
            "%s: AUROC %.3f (%.3f-%.3f), %s; slope %.2f, intercept %.2f",
            task,
            t["auroc"],
            t["auroc_low"],
            t["auroc_high"],
            f"oracle {o['auroc']:.3f}" if isinstance(o, dict) else NO_ORACLE,
            t["calibration_slope"],
            t["calibration_intercept"],
        )
    if paths.benefit_metrics.exists():  # the evaluate_benefit stage's, under `benefit`
        report["benefit"] = read_json(paths.benefit_metrics)
    write_json(_clean(report), paths.metrics)
    return report


def _write_figures(paths: Layout, task: Task, result: ev.Evaluation) -> dict[str, Path]:
    """Draw and save the figures; their files by name."""
    from ketapredict import plots

    written = {}
    for name, fig in figures(result, task).items():
        written[name] = paths.figures("evaluate", task) / f"{name}.png"
        write_bytes(plots.save_png(fig), written[name])
    return written


# measures of the test rows themselves, the same for every model: logged once, as test_<key>
SHARED = ("n", "events", "prevalence")


def _log(summary: dict[str, Any], record: dict[str, Any]) -> None:
    """The test-data measures, paired differences and design checks, to the open run, each
    once and against the logged model it measures (`record`: registry.json's model ids); the
    oracle's and the test rows' own figures against LightGBM, which they are the reference
    for (the UI lists a metric without a model under every model of the run)."""
    model, baseline = record.get("model_id"), record.get("baseline_model_id")
    test = summary["test"]
    tracking.log_metrics({f"test_{k}": test[k] for k in SHARED if k in test}, model_id=model)
    tracking.log_metrics(
        {f"test_{k}": v for k, v in test.items() if k not in SHARED}, model_id=model
    )
    tracking.log_metrics(
        {f"test_baseline_{k}": v for k, v in summary["baseline"].items() if k not in SHARED},
        model_id=baseline,
    )
    if isinstance(summary["oracle"], dict):
        oracle = summary["oracle"].items()
        tracking.log_metrics(
            {f"test_oracle_{k}": v for k, v in oracle if k not in SHARED}, model_id=model
        )
    else:
        tracking.set_tags({"oracle": summary["oracle"]})
    for pair, values in summary["paired"].items():
        tracking.log_metrics(
            {
                f"test_{pair.replace('model_', 'lightgbm_')}_{k}": v
                for k, v in values.items()
                # the regret against the oracle is test_net_benefit_regret_mean already
                if not (pair == "model_minus_oracle" and k.startswith("net_benefit_mean"))
            },
            model_id=model,
        )
    designs = summary["designs"]
    tracking.log_metrics(
        {f"test_{k}": v for k, v in designs.items() if "_model" in k}, model_id=model
    )
    tracking.log_metrics(
        {f"test_{k}": v for k, v in designs.items() if "_baseline" in k}, model_id=baseline
    )
    tracking.log_metrics(
        {f"test_{k}": v for k, v in designs.items() if "_model" not in k and "_baseline" not in k},
        model_id=model,
    )


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become null, numpy scalars plain floats."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value
