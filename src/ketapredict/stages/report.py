"""The `report` stage: the model card from the run's own outputs -> reports/model_card.html
(and .md), logged to the runs of the models it describes."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ketapredict import report
from ketapredict.cohort.specs import load_specs
from ketapredict.config import Params
from ketapredict.contract import TASKS, Task
from ketapredict.errors import DataError
from ketapredict.features import SCHEMA
from ketapredict.io import read_json, read_parquet, write_text
from ketapredict.layout import Layout

log = logging.getLogger(__name__)
FIGURES = {
    "evaluate": (
        "roc",
        "calibration",
        "decision_curve",
        "counterfactual_decision_curve",
        "subgroups",
    ),
    "explain": ("importance", "truth_recovery", "beeswarm"),
}


def _figures(paths: Layout, task: Task) -> dict[str, bytes]:
    out = {}
    for stage, names in FIGURES.items():
        for name in names:
            png = paths.stage_reports(stage, task) / "figures" / f"{name}.png"
            if png.exists():
                out[name] = png.read_bytes()
    return out


def _label(params: Params, task: Task) -> str:
    if task == "responder":
        lab = params.features.responder_label
        when = (
            "24 h after the first active dose" if lab.visit == "24h" else "at the end of the course"
        )
        return f"improvement of at least {lab.threshold:.0%} from baseline {when} (response)"
    return (
        f"relapse (loss of response) within {params.features.relapse_horizon_days:g} days of the "
        "end of the course, among responders; censoring by inverse probability weighting"
    )


def task_card(paths: Layout, params: Params, task: Task) -> report.TaskCard:
    table = read_parquet(paths.table(task))
    predictors = pd.DataFrame(
        [
            {
                "predictor": f.name,
                "unit": f.unit,
                "measured": f"{f.timing} treatment",
                "meaning": f.meaning,
            }
            for f in SCHEMA[task]
        ]
    )
    missing = table[[f.name for f in SCHEMA[task]]].isna().mean()
    missing = missing[missing > 0].rename("share_missing").rename_axis("predictor").reset_index()
    counts = read_json(paths.features_summary)[task]
    counts = {k: v for k, v in counts.items() if not isinstance(v, dict)}
    evaluate = paths.stage_reports("evaluate", task)
    metrics = read_json(paths.metrics)[task]
    recovery = read_json(paths.truth_recovery)[task]
    registry = read_json(paths.registry_record(task))
    _same_model(task, registry, metrics, recovery)
    return report.TaskCard(
        task=task,
        label=_label(params, task),
        counts=counts,
        predictors=predictors,
        missing=missing,
        training=read_json(paths.training_report(task)),
        metrics=metrics,
        subgroups=_subgroups(pd.read_csv(evaluate / "subgroups.csv")),
        internal_external=pd.read_csv(evaluate / "internal_external.csv"),
        recovery=recovery,
        importance=pd.read_csv(paths.stage_reports("explain", task) / "importance_blocks.csv"),
        registry=registry,
        within_design=pd.read_csv(evaluate / "within_design.csv"),
        figures=_figures(paths, task),
    )


def _same_model(task: Task, registry: dict, metrics: dict, recovery: dict) -> None:
    """Performance and explanations in one card must describe the same model."""
    versions = {
        "train": registry["version"],
        "evaluate": metrics.get("model_version"),
        "explain": recovery.get("model_version"),
    }
    if len(set(versions.values())) != 1:
        raise DataError(
            f"{task}: the reports describe different model versions {versions}; "
            "re-run the pipeline (dvc repro) so evaluate and explain see the same model"
        )


def _subgroups(frame: pd.DataFrame) -> pd.DataFrame:
    """The card's view: each measure with its paired difference to the oracle."""
    if frame.empty:
        return frame
    out = pd.DataFrame(
        {
            "group": frame["group"],
            "level": frame["level"],
            "n": frame["n"],
            "events": frame["events"],
            "AUROC (95 % CI)": [
                f"{e:.3f} ({lo:.3f}–{hi:.3f})"
                for e, lo, hi in zip(frame["estimate"], frame["low"], frame["high"], strict=True)
            ],
            "oracle AUROC": frame["oracle_auroc"],
        }
    )
    for label, key in (("Δ AUROC vs oracle", "auroc"), ("Δ intercept vs oracle", "intercept")):
        est, lo, hi = (frame[f"{key}_minus_oracle{s}"] for s in ("", "_low", "_high"))
        out[label] = [
            f"{e:+.3f} ({a:+.3f} to {b:+.3f})" for e, a, b in zip(est, lo, hi, strict=True)
        ]
    out["Holm p (AUROC, calibration)"] = [
        f"{a:.3f}, {b:.3f}"
        for a, b in zip(frame["p_auroc_holm"], frame["p_calibration_holm"], strict=True)
    ]
    out["flag"] = frame["flag"]
    out["why flagged"] = frame["flag_reason"].fillna("")
    return out


def build(paths: Layout, params: Params) -> report.Card:
    from ketapredict.tracking import git_commit

    specs = load_specs(paths)
    designs = pd.DataFrame(
        [
            {"design": name, "title": specs.trials[name].title, "patients": n}
            for name, n in params.generate.cohorts.items()
        ]
    )
    replication = read_json(paths.trial_reports / "replication.json")["summary"]
    tasks = [task_card(paths, params, t) for t in TASKS]
    return report.Card(git_commit(paths.root) or "unknown", designs, replication, tasks)


def run(paths: Layout, params: Params) -> report.Card:
    from ketapredict import tracking

    card = build(paths, params)
    html_path, md_path = paths.model_card_html, paths.model_card
    write_text(report.to_html(card), html_path)
    write_text(report.to_markdown(card), md_path)
    for task in TASKS:
        run_id = read_json(paths.registry_record(task))["run_id"]
        with tracking.resume_run(root=paths.root, run_id=run_id, stage="report"):
            tracking.log_file_artifact(html_path, "model_card")
            tracking.log_file_artifact(md_path, "model_card")
    log.info("model card: %s", Path(html_path).relative_to(paths.root))
    return card
