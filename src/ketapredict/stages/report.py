"""The `report` stage: the model card from the run's own outputs -> reports/model_card.html
(and .md), logged to the runs of the models it describes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ketapredict import describe, report, report_markdown, tracking
from ketapredict.benefit.card import BenefitCard
from ketapredict.cohort.specs import load_specs
from ketapredict.contract import TASKS, Task
from ketapredict.features import SCHEMA
from ketapredict.io import read_json, read_parquet, write_text
from ketapredict.layout import Layout
from ketapredict.report_findings import findings

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
            png = paths.figures(stage, task) / f"{name}.png"
            if png.exists():
                out[name] = png.read_bytes()
    return out


def _label(task: Task, label: Mapping[str, Any]) -> str:
    """The outcome in words, from the features keys that define it (FeaturesParams.label)."""
    if task == "responder":
        lab = label["responder_label"]
        when = (
            "24 h after the first active dose"
            if lab["visit"] == "24h"
            else "at the end of the course"
        )
        return f"improvement of at least {lab['threshold']:.0%} from baseline {when} (response)"
    return (
        f"relapse (loss of response) within {label['relapse_horizon_days']:g} days of the "
        "end of the course, among responders; censoring by inverse probability weighting"
    )


def task_card(paths: Layout, task: Task, *, label: Mapping[str, Any]) -> report.TaskCard:
    """Everything the card says about `task`, read from the stages' outputs."""
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
    # a whole number of days reads as one (28, not 28.000)
    counts = {
        k: int(v) if isinstance(v, float) and v.is_integer() else v
        for k, v in counts.items()
        if not isinstance(v, dict)
    }
    metrics = read_json(paths.metrics)[task]
    recovery = read_json(paths.truth_recovery)[task]
    registry = read_json(paths.registry_record(task))
    report.check_same_model(
        task,
        {
            "train": registry["version"],
            "evaluate": metrics.get("model_version"),
            "explain": recovery.get("model_version"),
        },
    )
    evaluate = {
        name: pd.read_csv(paths.stage_table("evaluate", task, name))
        for name in ("subgroups", "internal_external", "within_design")
    }
    return report.TaskCard(
        task=task,
        label=_label(task, label),
        counts=counts,
        predictors=predictors,
        missing=missing,
        training=read_json(paths.training_report(task))[task],
        metrics=metrics,
        subgroups=_subgroups(evaluate["subgroups"]),
        internal_external=evaluate["internal_external"],
        recovery=recovery,
        importance=pd.read_csv(
            paths.stage_table(
                "explain", task, "stability" if "oracle" in recovery else "importance_blocks"
            )
        ),
        registry=registry,
        within_design=evaluate["within_design"],
        figures=_figures(paths, task),
        raw_importance=(
            pd.DataFrame()
            if "oracle" in recovery
            else pd.read_csv(paths.stage_table("explain", task, "importance"))
        ),
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
        }
    )
    if "oracle_auroc" not in frame:  # no oracle (a user's cohort): the measures alone
        out["calibration intercept"] = frame["calibration_intercept"].round(3)
        out["calibration slope"] = frame["calibration_slope"].round(2)
        return out
    out.insert(5, "oracle AUROC", frame["oracle_auroc"])
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


def build(
    paths: Layout,
    *,
    cohorts: Mapping[str, int],
    labels: Mapping[Task, Mapping[str, Any]],
    threshold: float,
) -> report.Card:
    """The card's content: `cohorts` as generated (generate.cohorts), each task's `labels`,
    the benefit policy's `threshold` (benefit.policy_threshold)."""
    specs = load_specs(paths)
    designs = pd.DataFrame(
        [
            {"design": name, "title": specs.trials[name].title, "patients": n}
            for name, n in cohorts.items()
        ]
    )
    replication = read_json(paths.replication)["summary"]
    tasks = [task_card(paths, t, label=labels[t]) for t in TASKS]
    commit = tracking.git_commit(paths.root) or "unknown"
    source = read_json(paths.features_summary).get("source", {})
    own = source if source.get("source") == "files" else None
    skipped = read_json(paths.benefit_metrics).get("skipped")
    benefit = None if skipped else benefit_card(paths, threshold)
    return report.Card(commit, designs, replication, tasks, benefit, own)


def benefit_card(paths: Layout, threshold: float) -> BenefitCard:
    """The benefit section, from the evaluate_benefit stage's outputs."""
    figures = {
        name: (paths.benefit_figures / f"{name}.png").read_bytes()
        for name in ("policy_value", "qini", "calibration_for_benefit")
        if (paths.benefit_figures / f"{name}.png").exists()
    }
    return BenefitCard(
        read_json(paths.benefit_metrics), read_json(paths.benefit_roles), threshold, figures
    )


def run(
    paths: Layout,
    *,
    cohorts: Mapping[str, int],
    labels: Mapping[Task, Mapping[str, Any]],
    threshold: float,
) -> report.Card:
    """Write the model card (HTML and Markdown) and log it to each model's training run."""
    card = build(paths, cohorts=cohorts, labels=labels, threshold=threshold)
    html_path, md_path = paths.model_card_html, paths.model_card
    write_text(report.to_html(card), html_path)
    write_text(report_markdown.to_markdown(card), md_path)
    for t in card.tasks:
        record = read_json(paths.registry_record(t.task))
        with tracking.resume_run(root=paths.root, run_id=record["run_id"], stage="report") as run:
            tracking.log_file_artifact(html_path, "model_card")
            tracking.log_file_artifact(md_path, "model_card")
            if paths.replication_html.exists():  # the card links to it, relative to itself
                where = Path("model_card") / Path(report.REPLICATION).parent
                tracking.log_file_artifact(paths.replication_html, where.as_posix())
            text = describe.full_text(
                t.task, record["version"], t.metrics, findings(t), describe.run_link(run.info)
            )
            tracking.describe_run(text=text)
            tracking.describe(record["registered_model"], version=record["version"], text=text)
    log.info("model card: %s", Path(html_path).relative_to(paths.root))
    return card
