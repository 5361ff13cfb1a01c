"""The model card: TRIPOD+AI items a run can fill, as self-contained HTML and as Markdown.
Pure: the run's outputs (numbers, tables, PNG bytes) in, text out."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ketapredict import RESEARCH_NOTICE, __version__
from ketapredict.benefit.card import BenefitCard
from ketapredict.benefit.card import to_html as benefit_html
from ketapredict.contract import BASELINE, MODEL, ORACLE
from ketapredict.errors import DataError
from ketapredict.report_findings import findings
from ketapredict.report_html import STYLE, cell, figure, interval, table

# the replication report, relative to the card: reports/trials/ on disk, and logged as
# model_card/trials/ in MLflow beside the card
REPLICATION = "trials/replication.html"


@dataclass
class TaskCard:
    """Everything the card says about one task."""

    task: str
    label: str
    counts: dict[str, Any]
    predictors: pd.DataFrame
    missing: pd.DataFrame
    training: dict[str, Any]
    metrics: dict[str, Any]
    subgroups: pd.DataFrame
    internal_external: pd.DataFrame
    recovery: dict[str, Any]
    importance: pd.DataFrame
    registry: dict[str, Any]
    within_design: pd.DataFrame = field(default_factory=pd.DataFrame)
    figures: dict[str, bytes] = field(default_factory=dict)
    # SHAP importance per raw characteristic (the figures' ranking); `importance` has the
    # aliased characteristics as blocks
    raw_importance: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def version(self) -> str:
        """The registered version every section describes: the one this run trained."""
        return f"{self.registry.get('registered_model')} v{self.registry.get('version')}"


@dataclass
class Card:
    commit: str
    designs: pd.DataFrame
    replication: dict[str, Any]
    tasks: list[TaskCard]
    benefit: BenefitCard | None = None
    # a user's cohort (data.source: files): its folder, content hash and counts -- no row
    own: dict[str, Any] | None = None


def check_same_model(task: str, versions: dict[str, Any]) -> None:
    """Performance and explanations in one card must describe the same model: `versions` is
    the model version each stage reports (train, evaluate, explain)."""
    if len(set(versions.values())) != 1:
        raise DataError(
            f"{task}: the reports describe different model versions {versions}; "
            "re-run the pipeline (dvc repro) so evaluate and explain see the same model"
        )


MEASURES = {
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "brier": "Brier score",
    "scaled_brier": "scaled Brier score",
    "log_loss": "log loss",
    "calibration_intercept": "calibration intercept",
    "calibration_slope": "calibration slope",
    "ici": "ICI (smoothed)",
}


def performancetable(metrics: dict[str, Any]) -> pd.DataFrame:
    """A row per measure, a column per model (LightGBM, baseline, and the oracle when there is
    a truth): narrow enough for the page, and a reader compares the models across a row."""
    models = {
        label: metrics[key]
        for label, key in ((MODEL, "test"), (BASELINE, "baseline"), (ORACLE, "oracle"))
        if isinstance(metrics[key], dict)  # no oracle: a user's cohort has no truth
    }
    rows = [
        {
            "Measure (95 % CI)": label,
            **{
                name: cell(m.get(key)) if key == "ici" else interval(m, key)
                for name, m in models.items()
            },
        }
        for key, label in MEASURES.items()
    ]
    return pd.DataFrame(rows)


PAIRED = {
    "model_minus_baseline": "LightGBM − logistic baseline",
    "model_minus_oracle": "LightGBM − oracle (true risk)",
}


def pairedtable(metrics: dict[str, Any]) -> pd.DataFrame:
    """Paired bootstrap differences (same resamples for both models) with 95 % intervals."""
    rows = []
    for key, label in PAIRED.items():
        d = metrics.get("paired", {}).get(key)
        if d:
            rows.append(
                {
                    "comparison": label,
                    "Δ AUROC": interval(d, "auroc"),
                    "Δ Brier": interval(d, "brier"),
                    "Δ net benefit (mean over thresholds)": interval(d, "net_benefit_mean"),
                }
            )
    return pd.DataFrame(rows)


RECOVERY = ["spearman", "top5_overlap", "sign_agreement", "noise_share", "noise_in_top5"]


def recoverytable(recovery: dict[str, Any]) -> pd.DataFrame:
    """Truth recovery of both models, aliased characteristics as blocks (headline) and raw."""
    rows = []
    baseline, baseline_raw = recovery.get("baseline", {}), recovery.get("baseline_raw", {})
    for model, blocked, raw in (
        (f"{MODEL} (SHAP)", recovery, recovery.get("raw", {})),
        (f"{BASELINE} (coef × value)", baseline, baseline_raw),
    ):
        for scoring, values in (("aliased as blocks", blocked), ("raw characteristics", raw)):
            if values:
                rows.append(
                    {"model": model, "scoring": scoring, **{k: values.get(k) for k in RECOVERY}}
                )
    return pd.DataFrame(rows)


CAPTIONS = {
    "roc": "ROC curves on the held-out test data, with the oracle",
    "calibration": "Smoothed calibration with 95 % band, and deciles",
    "decision_curve": "Decision curve: net benefit of treating when p >= threshold",
    "counterfactual_decision_curve": (
        "Give ketamine if predicted response >= t, scored with the true outcomes"
    ),
    "subgroups": (
        "AUROC by subgroup (95 % CI); marked where it ranks worse than the oracle in the same "
        "patients (paired bootstrap difference, Holm-corrected). Calibration flags are in the "
        "table, not here."
    ),
    "importance": "Mean |SHAP| per characteristic vs the true importance",
    "truth_recovery": "SHAP importance against the true importance",
    "stability": "How often each characteristic is in the SHAP top 5 (bootstrap of patients)",
    "beeswarm": "SHAP values per patient (log-odds)",
}


def _task_html(t: TaskCard) -> str:
    m, v = t.metrics, html.escape(t.version)
    crowned = t.registry.get("crowned")
    status = (
        "It holds the champion alias: it is the model `ketapredict score` uses."
        if crowned
        else f"It did not become champion ({cell(t.registry.get('reason'))}); the champion "
        f"is version {cell(t.registry.get('exported') or t.registry.get('previous_champion'))}, "
        "described by the card of the run that trained it."
    )
    opt, d = m["optimism"], m.get("designs", {})
    parts = [
        f"<h2>{t.task.capitalize()} model — {v}</h2>",
        f"<p>Every section below describes {v}, the model this pipeline run trained. {status}</p>",
        f"<p><b>Outcome.</b> {html.escape(t.label)}</p>",
        _findings(t),
        "<h3>Participants and events</h3>",
        table(pd.DataFrame([t.counts])),
        "<h3>Predictors and when they are measured</h3>",
        table(t.predictors),
        "<h3>Missing data</h3><p>LightGBM routes missing values natively; the logistic baseline "
        "imputes the median and adds a missing-value indicator. Share missing per predictor "
        "(development data):</p>",
        table(t.missing),
        f"<h3>Model, tuning and the champion decision — {v}</h3>",
        table(pd.DataFrame([t.training["chosen"]])),
        f"<p>Cross-validated AUROC {cell(t.training['cv']['auroc'])}, calibration slope "
        f"{cell(t.training['cv']['calibration_slope'])}. The quality gate and the comparison "
        f"with the champion used {cell(t.training.get('decided_on'))}. Decision: "
        f"{cell(t.registry.get('reason'))}.</p>",
        f"<h3>Performance on the held-out test data — {v} (95 % bootstrap intervals)</h3>",
        table(performancetable(m)),
        _truth_calibration(m),
        "<p><b>Paired differences</b> (both models scored on the same bootstrap resamples, so "
        "the interval is for the difference itself; an interval that spans 0 means the data "
        "cannot tell the two apart):</p>",
        table(pairedtable(m)),
        f"<p><b>Overfitting.</b> Optimism-corrected AUROC (development data) "
        f"{cell(opt['auroc']['corrected'])}, calibration slope "
        f"{cell(opt['calibration_slope']['corrected'])}: each of the bootstrap refits repeats "
        "the training procedure (grouped cross-validation, early stopping, the calibration "
        "choice and its cross-fitted map); only the hyperparameter search is not repeated.</p>",
        '<div class="figs">'
        + "".join(
            figure(t.figures[k], CAPTIONS[k])
            for k in CAPTIONS
            if k in t.figures and k not in ("importance", "truth_recovery", "stability", "beeswarm")
        )
        + "</div>",
        f"<h3>Which design is this? — {v}</h3>",
        f"<p>A model that knows only each design's outcome rate reaches AUROC "
        f"{interval(d, 'design_only_auroc')}. Within designs (pairs of patients from the same "
        f"design only) the model reaches {interval(d, 'within_design_auroc_model')}"
        + (
            f", the oracle {interval(d, 'within_design_auroc_oracle')}.</p>"
            if "within_design_auroc_oracle" in d
            else ".</p>"
        ),
        table(t.within_design) if len(t.within_design) else "",
        f"<h3>Subgroups — {v}</h3>",
        table(t.subgroups, flag="flag" if "flag" in t.subgroups else None)
        if len(t.subgroups)
        else "<p>No subgroup large enough.</p>",
        f"<h3>Internal–external validation (leave one design out) — {v}'s procedure</h3>",
        table(t.internal_external) if len(t.internal_external) else "<p>Too few designs.</p>",
        *_explanations(t, v),
    ]
    return "\n".join(parts)


def _findings(t: TaskCard) -> str:
    items = "".join(f"<li>{html.escape(sentence)}</li>" for sentence in findings(t))
    return f'<div class="findings"><b>What the tables below show</b><ul>{items}</ul></div>'


def _truth_calibration(m: dict[str, Any]) -> str:
    if not isinstance(m["oracle"], dict):
        return (
            f"<p><b>No oracle.</b> {html.escape(m['oracle'])}: the measures against the true "
            "risk (its row above, the error of the predicted against the true probabilities, "
            "the regret in net benefit, the subgroup flags) and the explanations' truth "
            "recovery are not computed. The smoothed ICI is the calibration measure here.</p>"
        )
    return (
        "<p><b>Calibration against the truth</b> (the headline here, since the true risks are "
        f"known): mean absolute error of the predicted against the true probabilities "
        f"{cell(m['test'].get('truth_mean_abs'))}, 90th percentile "
        f"{cell(m['test'].get('truth_e90'))}. The smoothed ICI measures the same thing with "
        f"noise: the oracle itself scores ICI {cell(m['oracle'].get('ici'))}, which is "
        "smoothing noise, not miscalibration.</p>"
    )


def _explanations(t: TaskCard, v: str) -> list[str]:
    """The explanation section: truth recovery, or (no truth) the top 5's stability."""
    # a user's cohort: no figure that shows single patients (the beeswarm) in the card
    figs = (
        ("importance", "truth_recovery", "beeswarm")
        if "oracle" not in t.recovery
        else ("importance", "stability")
    )
    gallery = (
        '<div class="figs">'
        + "".join(figure(t.figures[k], CAPTIONS[k]) for k in figs if k in t.figures)
        + "</div>"
    )
    if "oracle" in t.recovery:  # no truth
        n = t.recovery.get("stability_resamples")
        return [
            f"<h3>Explanations and the stability of their ranking — {v}</h3>",
            f"<p>{html.escape(t.recovery['oracle'])}, so SHAP cannot be checked against true "
            f"effects. Instead: how often each characteristic is among the five of largest mean "
            f"|SHAP| over {n} bootstrap resamples of the test patients. A share near 1 is a "
            "stable ranking, not a causal effect.</p>",
            table(t.importance.head(12)),
            gallery,
        ]
    return [
        f"<h3>Explanations and their truth recovery — {v}</h3>",
        _aliased(t.recovery),
        table(recoverytable(t.recovery)),
        table(t.importance.head(12)),
        gallery,
    ]


def _aliased(recovery: dict[str, Any]) -> str:
    blocks = recovery.get("aliased_blocks") or {}
    if not blocks:
        return "<p>Every characteristic is separately identifiable in the training data.</p>"
    items = "".join(f"<li>{html.escape(members)}</li>" for members in blocks.values())
    return (
        "<p>These characteristics cannot be told apart in the training data (constant within "
        "each design and determined by one another, or collinear), so each group is scored "
        f"as one block; the raw figures follow for comparison:</p><ul>{items}</ul>"
    )


def to_html(card: Card) -> str:
    body = [
        f"<h1>ketapredict model card</h1><p>ketapredict {__version__}, commit "
        f"<code>{html.escape(card.commit)}</code></p>",
        *(_own_source(card.own) if card.own else _synthetic_source(card)),
        *(_task_html(t) for t in card.tasks),
        benefit_html(card.benefit, figure, table) if card.benefit else "",
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>ketapredict model card</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def _synthetic_source(card: Card) -> list[str]:
    r = card.replication
    return [
        f'<p class="notice"><b>Intended use and limitations.</b> {html.escape(RESEARCH_NOTICE)} '
        "The patients are synthetic, drawn from a generator calibrated to published ketamine "
        "trials; performance here says how well the method recovers a known truth, not how a "
        "model would perform in a clinic. Features are those trials report; real predictors "
        "of ketamine response are weaker and less certain.</p>",
        "<h2>Data source</h2><p>Synthetic cohorts modeled on these trial designs (sizes as "
        "simulated):</p>",
        table(card.designs),
        f"<p>Replication check: {cell(100 * r['share_inside_verified'], 0)} % of verified "
        f"published trial figures fall inside their simulated 95 % intervals "
        f"({cell(100 * r['share_inside'], 0)} % of all {int(r['n_targets'])} targets): "
        f'<a href="{REPLICATION}">the replication report</a>, beside this card (in MLflow, '
        f"this run's artifact model_card/{REPLICATION}).</p>",
    ]


def _own_source(own: dict[str, Any]) -> list[str]:
    rows = pd.DataFrame([{"table": k, "rows": v} for k, v in own.get("rows", {}).items()])
    return [
        f'<p class="notice"><b>Intended use and limitations.</b> {html.escape(RESEARCH_NOTICE)} '
        "The patients are the user's own cohort. It has no truth, so nothing here says how "
        "close a model is to the best possible; every oracle-relative section is left out and "
        "says so. No row of the data is in this card or in MLflow.</p>",
        f"<h2>Data source</h2><p>The user's cohort in <code>{html.escape(own['folder'])}</code>"
        f" ({html.escape(own['shape'])}), identified only by its content hash "
        f"<code>{html.escape(own['sha256'][:16])}</code> and its counts:</p>",
        table(rows),
    ]
