"""The `explain` stage: SHAP of the models this pipeline trained (the same ones `evaluate`
scored) on the held-out patients, checked against the true effects, with characteristics the
training data cannot tell apart scored as blocks -> reports/explain/, logged to each model's
MLflow run."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ketapredict import explain as ex
from ketapredict.cohort.specs import load_effect_model
from ketapredict.config import Params
from ketapredict.contract import TASKS, Task
from ketapredict.features import build_features, feature_names
from ketapredict.io import (
    read_json,
    read_parquet,
    write_bytes,
    write_json,
    write_parquet,
    write_text,
)
from ketapredict.layout import Layout
from ketapredict.model import KetaModel
from ketapredict.train import load_baseline

log = logging.getLogger(__name__)
DEPENDENCE = 3


def explain_task(paths: Layout, task: Task) -> dict[str, Any]:
    table = read_parquet(paths.table(task))
    test = table[table["split"] == "test"].reset_index(drop=True)
    folder = paths.trained(task)
    model = KetaModel.load(folder / "lightgbm")
    registry = read_json(folder / "registry.json")
    blocks = ex.aliased_blocks(table[table["split"] == "train"], task)
    X = build_features(test, task)[feature_names(task)]
    shap_values = ex.tree_shap(model, X)
    per = ex.by_characteristic(shap_values, task)
    imp = ex.importance(per)
    effects = load_effect_model(paths.model)
    dose = np.array(
        [
            effects.dose_factor(d, r, x)
            for d, r, x in zip(test["drug"], test["route"], test["dose"], strict=True)
        ]
    )
    truth = ex.true_contributions(task, test, effects, dose)
    summary, table_imp = ex.recovery(imp, truth, per, test)
    baseline = load_baseline(folder)
    b_imp, b_per = ex.baseline_importance(baseline, X, task)
    b_summary, b_table = ex.recovery(b_imp, truth, b_per, test)
    blocked = {
        name: ex.block_recovery(frame, truth, test, blocks)
        for name, frame in (("model", per), ("baseline", b_per))
    }
    pair = ex.interaction_pair(model, X.iloc[: min(len(X), 1000)])
    p = model.predict_matrix(X)
    return {
        "task": task,
        "model_version": registry["version"],
        "run_id": registry["run_id"],
        "blocks": blocks,
        "blocked": blocked,
        "model": model,
        "X": X,
        "test": test,
        "shap": shap_values,
        "per": per,
        "summary": summary,
        "importance": table_imp,
        "baseline_summary": b_summary,
        "baseline_importance": b_table,
        "interaction": pair,
        "examples": ex.examples(p),
        "p": p,
    }


def figures(out: dict[str, Any]) -> dict[str, Any]:
    from ketapredict import plots
    from ketapredict.plots import shap as plots_shap

    task, sv = out["task"], out["shap"]
    summary, imp = out["blocked"]["model"]  # aliased characteristics as one block each
    name = f"{task.capitalize()} v{out['model_version']}"
    figs = {
        "importance": plots.plot_importance(
            imp, title=f"{name}: mean |SHAP| vs true importance", truth_column="true_importance"
        ),
        "truth_recovery": plots.plot_truth_recovery(
            imp, title=f"{name}: SHAP vs truth", spearman=summary["spearman"]
        ),
        "beeswarm": plots_shap.plot_shap_beeswarm(sv, title=f"{name}: SHAP values (log-odds)"),
        "bar": plots_shap.plot_shap_bar(sv, title=f"{name}: mean |SHAP| per model feature"),
    }
    for feature in _top_features(sv, DEPENDENCE):
        figs[f"dependence_{feature}"] = plots_shap.plot_shap_dependence(sv, feature)
    a, b, _ = out["interaction"]
    figs["interaction"] = plots_shap.plot_shap_dependence(
        sv, a, color=b, title=f"Leading interaction: {a} x {b}"
    )
    for label, row in out["examples"].items():
        figs[f"waterfall_{label}"] = plots_shap.plot_shap_waterfall(
            sv, row, title=f"{name}: {label} predicted probability ({out['p'][row]:.2f})"
        )
    return figs


def _top_features(sv: ex.Shap, k: int) -> list[str]:
    order = np.argsort(-np.abs(sv.values).mean(axis=0))
    return [sv.features[i] for i in order[:k]]


def run(paths: Layout, params: Params) -> dict[str, Any]:
    from ketapredict import plots, tracking

    recovery: dict[str, Any] = {}
    for task in TASKS:
        out = explain_task(paths, task)
        folder = paths.stage_reports("explain", task)
        write_text(out["importance"].to_csv(index=False), folder / "importance.csv")
        write_text(
            out["baseline_importance"].to_csv(index=False), folder / "baseline_importance.csv"
        )
        values = pd.DataFrame(out["shap"].values, columns=out["shap"].features)
        values.insert(0, "patient_id", out["test"]["patient_id"].to_numpy())
        values["base_value"] = out["shap"].base
        write_parquet(values, folder / "shap_values.parquet")
        write_text(out["blocked"]["model"][1].to_csv(index=False), folder / "importance_blocks.csv")
        a, b, strength = out["interaction"]
        recovery[task] = {
            "model_version": out["model_version"],
            # headline: aliased characteristics scored as one block each
            **out["blocked"]["model"][0],
            "raw": out["summary"],
            "baseline": out["blocked"]["baseline"][0],
            "baseline_raw": out["baseline_summary"],
            "aliased_blocks": {" + ".join(block): ", ".join(block) for block in out["blocks"]},
            "interaction": {"pair": [a, b], "mean_abs": strength},
        }
        pngs = {name: plots.save_png(fig) for name, fig in figures(out).items()}
        for name, data in pngs.items():
            write_bytes(data, folder / "figures" / f"{name}.png")
        with tracking.resume_run(root=paths.root, run_id=out["run_id"], stage="explain"):
            tracking.log_metrics({f"shap_{k}": v for k, v in out["blocked"]["model"][0].items()})
            tracking.log_metrics({f"shap_raw_{k}": v for k, v in out["summary"].items()})
            tracking.log_metrics(
                {f"baseline_coef_{k}": v for k, v in out["baseline_summary"].items()}
            )
            for name in pngs:
                tracking.log_file_artifact(folder / "figures" / f"{name}.png", "explain")
            for name in (
                "importance.csv",
                "importance_blocks.csv",
                "baseline_importance.csv",
                "shap_values.parquet",
            ):
                tracking.log_file_artifact(folder / name, "explain")
        s = out["blocked"]["model"][0]
        log.info(
            "%s v%s: SHAP vs truth Spearman %.2f, top-5 overlap %.0f%%, noise share %.1f%%"
            " (aliased characteristics as blocks)",
            task,
            out["model_version"],
            s["spearman"],
            100 * s["top5_overlap"],
            100 * s["noise_share"],
        )
    write_json(recovery, paths.truth_recovery)
    return recovery
