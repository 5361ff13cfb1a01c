"""What the MLflow UI says about a model, in Markdown: the registered model's description, a
version's and its training run's (headline figures, the decision, where the model card, SHAP
and evaluation figures are). Pure: figures in, text out; the train stage writes the first
version, the report stage the full one with the test figures and the card's findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ketapredict import RESEARCH_NOTICE
from ketapredict.contract import REGISTERED
from ketapredict.report_html import cell, interval

CARD = "model_card/model_card.html"
# MLflow 3's UI opens a page in its GenAI view unless told otherwise; a link says so
VIEW = "?workflowType=machine_learning"
OUTCOME_WORDS = {
    "responder": "response (at least 50 % improvement from baseline) after ketamine",
    "relapse": "relapse after a response, within the horizon after the course",
    "benefit": (
        "response on ketamine minus response on the trial's comparator (the individual "
        "treatment benefit at 24 h)"
    ),
}


@dataclass(frozen=True)
class Trained:
    """What training knows: cross-validated figures on the training split and the decision."""

    task: str
    version: str
    cv: dict[str, float]
    baseline_cv: dict[str, float]
    oracle_cv: dict[str, float] | None
    decision: str
    label: dict[str, Any]


def run_link(info: Any) -> str:
    """A run's page in the MLflow UI, relative to the UI (a link in a Markdown description);
    `info`: the run's RunInfo."""
    return f"#/experiments/{info.experiment_id}/runs/{info.run_id}"


def model_text(task: str) -> str:
    """The registered model's description: what it predicts and how its versions are chosen."""
    return (
        f"**{REGISTERED[task]}** predicts the probability of {OUTCOME_WORDS[task]}, from "
        "characteristics known before treatment. Each version is trained by the "
        f"`train_{task}` stage; the `champion` alias is on the version that passed the quality "
        "gate and beat the previous champion on the same cross-validated rows, and "
        "`ketapredict score` uses it. Each version's description has its figures and a link "
        f"to its model card.\n\n> {RESEARCH_NOTICE}"
    )


def _cv_table(t: Trained) -> str:
    rows = [("LightGBM", t.cv), ("logistic baseline", t.baseline_cv)]
    if t.oracle_cv:
        rows.append(("oracle (true risk)", t.oracle_cv))
    lines = ["| cross-validated | AUROC | Brier | calibration slope |", "|---|---|---|---|"]
    lines += [
        f"| {name} | {cell(m.get('auroc'))} | {cell(m.get('brier'))} | "
        f"{cell(m.get('calibration_slope'))} |"
        for name, m in rows
    ]
    return "\n".join(lines)


def run_text(t: Trained) -> str:
    """The training run's description, written when it trains."""
    return (
        f"**{t.task} · train · v{t.version}** ({REGISTERED[t.task]} v{t.version}). "
        f"Outcome: {_label(t)}.\n\n{_cv_table(t)}\n\n**Decision:** {t.decision}.\n\n"
        f"Artifacts: the model (`{t.task}_lightgbm`) and the logistic baseline "
        f"(`{t.task}_logistic_baseline`) under Logged models; `tuning/`, `features.json`, "
        "`label.json`, `champion_decision.json`. The evaluate, explain and report stages add "
        f"`evaluation/`, `explain/` (SHAP figures) and `{CARD}` to this run."
    )


def version_text(t: Trained, run_link: str) -> str:
    """A version's description before evaluation: the training figures and where to look."""
    return (
        f"**v{t.version}** — {_label(t)}.\n\n{_cv_table(t)}\n\n**Decision:** {t.decision}.\n\n"
        f"[Training run]({run_link}{VIEW}); its model card (after `dvc repro` completes): "
        f"[{CARD}]({run_link}/artifactPath/{CARD}{VIEW})."
    )


def _label(t: Trained) -> str:
    label = t.label
    if "horizon_days" in label:
        return f"relapse within {label['horizon_days']:g} days of the end of the course"
    return (
        f"improvement of at least {label.get('threshold', 0.5):.0%} at "
        f"{label.get('visit', '24h')} (response)"
    )


def full_text(
    task: str, version: str, metrics: dict[str, Any], findings: list[str], run_link: str
) -> str:
    """A version's (and its run's) description after evaluation: the test figures with their
    intervals, what the card's tables show, and one click to the card and the figures."""
    test, base, oracle = metrics["test"], metrics["baseline"], metrics["oracle"]
    rows = [("LightGBM", test), ("logistic baseline", base)]
    if isinstance(oracle, dict):
        rows.append(("oracle (true risk)", oracle))
    table = ["| held-out test (95 % CI) | AUROC | calibration slope |", "|---|---|---|"]
    table += [
        f"| {name} | {interval(m, 'auroc')} | {interval(m, 'calibration_slope')} |"
        for name, m in rows
    ]
    said = "\n".join(f"- {sentence}" for sentence in findings)
    return (
        f"**{REGISTERED[task]} v{version}**\n\n"
        f"**[Model card]({run_link}/artifactPath/{CARD}{VIEW})** · "
        f"[SHAP figures]({run_link}/artifactPath/explain/importance.png{VIEW}) · "
        f"[evaluation figures]({run_link}/artifactPath/evaluation/roc.png{VIEW}) · "
        f"[training run]({run_link}{VIEW})\n\n"
        + "\n".join(table)
        + f"\n\n**What the card's tables "
        f"show**\n\n{said}\n\n> {RESEARCH_NOTICE}"
    )


def benefit_text(learner: str, version: str, cv: dict[str, Any], reason: str, link: str) -> str:
    """The served benefit learner's run and version description."""
    return (
        f"**{REGISTERED['benefit']} v{version}** ({learner}): estimates each patient's benefit "
        "of ketamine over the comparator of their trial.\n\n| cross-validated | value |\n"
        "|---|---|\n"
        + "\n".join(
            f"| {k} | {cell(v)} |" for k, v in cv.items() if not k.endswith(("_low", "_high"))
        )
        + f"\n\n**Decision:** {reason}.\n\nThe evaluation against the true individual benefit "
        f"(held-out patients) is in `reports/benefit/metrics.json` and the model card. "
        f"[Training run]({link}{VIEW}).\n\n> {RESEARCH_NOTICE}"
    )
