"""The `explain` stage: SHAP of the models this pipeline trained (the same ones `evaluate`
scored) on the held-out patients, checked against the true effects, with characteristics the
training data cannot tell apart scored as blocks -> reports/explain/, logged to each model's
MLflow run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ketapredict import explain as ex
from ketapredict import tracking
from ketapredict.baseline import load_baseline
from ketapredict.cohort.specs import read_effect_model
from ketapredict.contract import ID, TASKS, Task
from ketapredict.datasets import NO_ORACLE, has_oracle
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
from ketapredict.plain_names import plain

log = logging.getLogger(__name__)
DEPENDENCE = 3
STABILITY_SEED = 19  # the bootstrap of the SHAP ranking's stability (no truth)


@dataclass(frozen=True)
class Recovered:
    """How well one model's importances recover the true ones: summary and per characteristic."""

    summary: dict[str, float]
    table: pd.DataFrame


@dataclass(frozen=True)
class Explanation:
    """One task's model explained on the test split, and its truth recovery."""

    task: Task
    model_version: str
    run_id: str  # the model's training run, where the explanations are logged
    test: pd.DataFrame
    shap: ex.Shap
    blocks: list[list[str]]  # characteristics the training data cannot tell apart
    # against the truth (None without it: a user's cohort)
    model: Recovered | None  # SHAP, each characteristic on its own
    model_blocks: Recovered | None  # SHAP, aliased characteristics as one block each: headline
    baseline: Recovered | None  # the logistic baseline's coef x value, read the same way
    baseline_blocks: Recovered | None
    interaction: tuple[str, str, float]  # the leading pair and its mean |interaction|
    examples: dict[str, int]  # rows shown as waterfalls
    p: np.ndarray  # the model's probabilities for the test rows
    # without truth: how often each characteristic is in the SHAP top 5 over bootstrap
    # resamples of the patients, and the baseline's importance
    stability: pd.DataFrame | None = None
    baseline_importance: pd.Series | None = None
    # the model's map from the trees' log-odds to its probability (the waterfalls show both)
    calibrate: Callable[[np.ndarray], np.ndarray] | None = None


def explain_task(paths: Layout, task: Task) -> Explanation:
    """SHAP of `task`'s trained model (and coefficients of its baseline) against the truth."""
    table = read_parquet(paths.table(task))
    test = table[table["split"] == "test"].reset_index(drop=True)
    model = KetaModel.load(paths.trained_model(task))
    registry = read_json(paths.registry_record(task))
    blocks = ex.aliased_blocks(table[table["split"] == "train"], task)
    X = build_features(test, task)[feature_names(task)]
    log.info("%s v%s: SHAP values of %d test patients", task, registry["version"], len(X))
    shap_values = ex.tree_shap(model, X)
    per = ex.by_characteristic(shap_values, task)
    imp = ex.importance(per)
    baseline = load_baseline(paths.trained(task))
    b_imp, b_per = ex.baseline_importance(baseline, X, task)
    log.info(
        "%s v%s: the strongest interaction (SHAP interaction values)", task, registry["version"]
    )
    pair = ex.interaction_pair(model, X.iloc[: min(len(X), 1000)])
    p = model.predict_matrix(X)
    if not has_oracle(table):  # a user's cohort: stability of the ranking, not recovery
        rng = np.random.default_rng([STABILITY_SEED, TASKS.index(task)])
        return Explanation(
            task, registry["version"], registry["run_id"], test, shap_values, blocks,
            None, None, None, None, pair, ex.examples(p), p,
            stability=ex.top5_stability(per, rng), baseline_importance=b_imp,
            calibrate=model.calibrate,
        )  # fmt: skip
    log.info("%s v%s: SHAP against the true effects", task, registry["version"])
    effects = read_effect_model(paths.synthetic_model)
    dose = np.array(
        [
            effects.dose_factor(d, r, x)
            for d, r, x in zip(test["drug"], test["route"], test["dose"], strict=True)
        ]
    )
    truth = ex.true_contributions(task, test, effects, dose)
    recovered = Recovered(*ex.recovery(imp, truth, per, test))
    b_recovered = Recovered(*ex.recovery(b_imp, truth, b_per, test))
    blocked = {
        name: Recovered(*ex.block_recovery(frame, truth, test, blocks))
        for name, frame in (("model", per), ("baseline", b_per))
    }
    return Explanation(
        task=task,
        model_version=registry["version"],
        run_id=registry["run_id"],
        test=test,
        shap=shap_values,
        blocks=blocks,
        model=recovered,
        model_blocks=blocked["model"],
        baseline=b_recovered,
        baseline_blocks=blocked["baseline"],
        interaction=pair,
        examples=ex.examples(p),
        p=p,
        calibrate=model.calibrate,
    )


def figures(out: Explanation) -> dict[str, Any]:
    """The explanation's figures, characteristics by their plain names."""
    from ketapredict import plots
    from ketapredict.plots import shap as plots_shap

    task, sv = out.task, out.shap
    named = replace(sv, features=[plain(f) for f in sv.features])
    name = f"{task.capitalize()} v{out.model_version}"
    if out.model_blocks is None:  # no truth: importance, and how stable its top 5 is
        stability = out.stability.assign(characteristic=out.stability["characteristic"].map(plain))
        figs = {
            "importance": plots.plot_importance(
                stability, title=f"{name}: mean |SHAP| (no truth to compare)",
                bar_label="Mean |SHAP|",
            ),
            "stability": plots.plot_importance(
                stability.assign(importance=stability["top5_share"]),
                title=f"{name}: share of resamples in the SHAP top 5",
                xlabel="Share of bootstrap resamples", bar_label="In the top 5",
            ),
        }  # fmt: skip
    else:
        summary, imp = out.model_blocks.summary, out.model_blocks.table
        imp = imp.assign(characteristic=imp["characteristic"].map(plain))
        figs = {
            "importance": plots.plot_importance(
                imp, title=f"{name}: mean |SHAP| and the truth", truth_column="true_importance",
            ),
            "truth_recovery": plots.plot_truth_recovery(
                imp, title=f"{name}: SHAP vs truth", spearman=summary["spearman"]
            ),
        }  # fmt: skip
    figs |= {
        "beeswarm": plots_shap.plot_shap_beeswarm(named, title=f"{name}: SHAP values (log-odds)"),
        "bar": plots_shap.plot_shap_bar(named, title=f"{name}: mean |SHAP| per model feature"),
    }
    for feature in _top_features(sv, DEPENDENCE):
        figs[f"dependence_{feature}"] = plots_shap.plot_shap_dependence(named, plain(feature))
    a, b, _ = out.interaction
    figs["interaction"] = plots_shap.plot_shap_dependence(
        named, plain(a), color=plain(b), title=f"Leading interaction: {plain(a)} × {plain(b)}"
    )
    for label, row in out.examples.items():
        figs[f"waterfall_{label}"] = plots_shap.plot_shap_waterfall(
            named, row, title=f"{name}: {label} predicted probability ({out.p[row]:.2f})",
            to_probability=out.calibrate,
        )  # fmt: skip
    return figs


def _top_features(sv: ex.Shap, k: int) -> list[str]:
    order = np.argsort(-np.abs(sv.values).mean(axis=0))
    return [sv.features[i] for i in order[:k]]


def run(paths: Layout) -> dict[str, Any]:
    """Explain each task's model, write tables, SHAP values and figures, log them to the
    model's training run; reports/explain/truth_recovery.json summarises both tasks."""
    recovery: dict[str, Any] = {}
    for task in TASKS:
        out = explain_task(paths, task)
        written = _write(paths, out)
        recovery[task] = _summary(out)
        with tracking.resume_run(root=paths.root, run_id=out.run_id, stage="explain"):
            _log(out, read_json(paths.registry_record(task)))
            for path in written if out.model_blocks is not None else _aggregate(written):
                tracking.log_file_artifact(path, "explain")
        if out.model_blocks is None:
            top = out.stability.head(5)
            log.info(
                "%s v%s: %s; SHAP top 5 %s (share of resamples in the top 5: %s)",
                task, out.model_version, NO_ORACLE, ", ".join(top["characteristic"]),
                ", ".join(f"{v:.2f}" for v in top["top5_share"]),
            )  # fmt: skip
            continue
        s = out.model_blocks.summary
        log.info(
            "%s v%s: SHAP vs truth Spearman %.2f, top-5 overlap %.0f%%, noise share %.1f%%"
            " (aliased characteristics as blocks)",
            task,
            out.model_version,
            s["spearman"],
            100 * s["top5_overlap"],
            100 * s["noise_share"],
        )
    write_json(recovery, paths.truth_recovery)
    return recovery


def _log(out: Explanation, record: dict[str, Any]) -> None:
    """The explanation's measures to the model's open run, against the logged model each
    describes (`record`: registry.json's model ids): recovery, or stability."""
    model, baseline = record.get("model_id"), record.get("baseline_model_id")
    if out.model_blocks is None:
        tracking.set_tags({"oracle": NO_ORACLE})
        shares = out.stability.set_index("characteristic")["top5_share"]
        top = {f"shap_top5_share_{k}": v for k, v in shares.head(10).items()}
        tracking.log_metrics(top, model_id=model)
        return
    tracking.log_metrics(
        {f"shap_{k}": v for k, v in out.model_blocks.summary.items()}, model_id=model
    )
    tracking.log_metrics({f"shap_raw_{k}": v for k, v in out.model.summary.items()}, model_id=model)
    tracking.log_metrics(
        {f"baseline_coef_{k}": v for k, v in out.baseline.summary.items()}, model_id=baseline
    )


# Files that show single patients (their SHAP values, or feature values point by point): a
# user's cohort keeps them on this machine, out of MLflow.
PER_PATIENT = ("shap_values", "waterfall_", "dependence_", "interaction", "beeswarm")


def _aggregate(written: list[Path]) -> list[Path]:
    """The files that describe the cohort only in aggregate."""
    return [p for p in written if not p.name.startswith(PER_PATIENT)]


def _tables(out: Explanation) -> dict[str, pd.DataFrame]:
    if out.model_blocks is None:
        return {
            "stability": out.stability,
            "baseline_importance": out.baseline_importance.rename("importance")
            .rename_axis("characteristic")
            .reset_index(),
        }
    return {
        "importance": out.model.table,
        "importance_blocks": out.model_blocks.table,
        "baseline_importance": out.baseline.table,
    }


def _write(paths: Layout, out: Explanation) -> list[Path]:
    """Tables, SHAP values and figures of one task; the files written, figures first."""
    from ketapredict import plots

    tables = _tables(out)
    for name, frame in tables.items():
        write_text(frame.to_csv(index=False), paths.stage_table("explain", out.task, name))
    values = pd.DataFrame(out.shap.values, columns=out.shap.features)
    values.insert(0, ID, out.test[ID].to_numpy())
    values["base_value"] = out.shap.base
    write_parquet(values, paths.shap_values(out.task))
    pngs = []
    for name, fig in figures(out).items():
        pngs.append(paths.figures("explain", out.task) / f"{name}.png")
        write_bytes(plots.save_png(fig), pngs[-1])
    csvs = [paths.stage_table("explain", out.task, name) for name in tables]
    return [*pngs, *csvs, paths.shap_values(out.task)]


def _summary(out: Explanation) -> dict[str, Any]:
    """One task's entry in truth_recovery.json."""
    a, b, strength = out.interaction
    if out.model_blocks is None:
        shares = out.stability.set_index("characteristic")["top5_share"]
        return {
            "model_version": out.model_version,
            "oracle": NO_ORACLE,
            "top5_share": {k: float(v) for k, v in shares.items()},
            "stability_resamples": ex.STABILITY_RESAMPLES,
            "interaction": {"pair": [a, b], "mean_abs": strength},
        }
    return {
        "model_version": out.model_version,
        # headline: aliased characteristics scored as one block each
        **out.model_blocks.summary,
        "raw": out.model.summary,
        "baseline": out.baseline_blocks.summary,
        "baseline_raw": out.baseline.summary,
        "aliased_blocks": {" + ".join(block): ", ".join(block) for block in out.blocks},
        "interaction": {"pair": [a, b], "mean_abs": strength},
    }
