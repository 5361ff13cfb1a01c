"""The model card: TRIPOD+AI items a run can fill, as self-contained HTML and as Markdown.
Pure: the run's outputs (numbers, tables, PNG bytes) in, text out."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ketapredict import RESEARCH_NOTICE, __version__
from ketapredict.benefit.card import BenefitCard
from ketapredict.benefit.card import to_html as benefit_html
from ketapredict.contract import BASELINE, MODEL, ORACLE
from ketapredict.errors import DataError

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:72rem;
margin:2rem auto;padding:0 1rem;color:#1d1d1d;line-height:1.45}
h1{font-size:1.7rem}h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}th,td{border:1px solid #ccc;
padding:.25rem .5rem;text-align:left}th{background:#f1f4f8}td.n{text-align:right}
.notice{background:#fff4e5;border-left:5px solid #E69F00;padding:.7rem 1rem}
.figs{display:flex;flex-wrap:wrap;gap:1rem}.figs figure{margin:0;flex:1 1 30rem}
.figs img{width:100%;border:1px solid #ddd}figcaption{font-size:.85rem;color:#555}
tr.flag td{background:#fdecea}
"""


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


def _num(x: Any, digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return html.escape(str(x))


def _table(frame: pd.DataFrame, flag: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns if c != flag)
    rows = []
    # records, not iterrows: a row as one Series takes one dtype, and a float column (e.g. the
    # horizon in days) turned every count beside it into a float ("1641.000")
    for r in frame.to_dict("records"):
        cls = ' class="flag"' if flag and bool(r[flag]) else ""
        cells = "".join(
            f'<td class="{"n" if isinstance(v, int | float) else ""}">{_num(v)}</td>'
            for c, v in r.items()
            if c != flag
        )
        rows.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _interval(m: dict[str, Any], key: str) -> str:
    return f"{_num(m.get(key))} ({_num(m.get(f'{key}_low'))} to {_num(m.get(f'{key}_high'))})"


def performance_table(metrics: dict[str, Any]) -> pd.DataFrame:
    rows = []
    keys = [
        "auroc",
        "auprc",
        "brier",
        "scaled_brier",
        "log_loss",
        "calibration_intercept",
        "calibration_slope",
    ]
    for label, key in ((MODEL, "test"), (BASELINE, "baseline"), (ORACLE, "oracle")):
        m = metrics[key]
        if not isinstance(m, dict):  # no oracle: a user's cohort has no truth
            continue
        rows.append(
            {"model": label, **{k: _interval(m, k) for k in keys}, "ICI": _num(m.get("ici"))}
        )
    return pd.DataFrame(rows)


PAIRED = {
    "model_minus_baseline": "LightGBM − logistic baseline",
    "model_minus_oracle": "LightGBM − oracle (true risk)",
}


def paired_table(metrics: dict[str, Any]) -> pd.DataFrame:
    """Paired bootstrap differences (same resamples for both models) with 95 % intervals."""
    rows = []
    for key, label in PAIRED.items():
        d = metrics.get("paired", {}).get(key)
        if d:
            rows.append(
                {
                    "comparison": label,
                    "Δ AUROC": _interval(d, "auroc"),
                    "Δ Brier": _interval(d, "brier"),
                    "Δ net benefit (mean over thresholds)": _interval(d, "net_benefit_mean"),
                }
            )
    return pd.DataFrame(rows)


RECOVERY = ["spearman", "top5_overlap", "sign_agreement", "noise_share", "noise_in_top5"]


def recovery_table(recovery: dict[str, Any]) -> pd.DataFrame:
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


def _figure(data: bytes, caption: str) -> str:
    b64 = base64.b64encode(data).decode()
    text = html.escape(caption)
    return (
        f'<figure><img alt="{text}" src="data:image/png;base64,{b64}">'
        f"<figcaption>{text}</figcaption></figure>"
    )


CAPTIONS = {
    "roc": "ROC curves on the held-out test data, with the oracle",
    "calibration": "Smoothed calibration with 95 % band, and deciles",
    "decision_curve": "Decision curve: net benefit of treating when p >= threshold",
    "counterfactual_decision_curve": (
        "Give ketamine if predicted response >= t, scored with the true outcomes"
    ),
    "subgroups": (
        "AUROC by subgroup; flagged where worse than the oracle in the same patients "
        "(paired difference, Holm-corrected)"
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
        else f"It did not become champion ({_num(t.registry.get('reason'))}); the champion "
        f"is version {_num(t.registry.get('exported') or t.registry.get('previous_champion'))}, "
        "described by the card of the run that trained it."
    )
    opt, d = m["optimism"], m.get("designs", {})
    parts = [
        f"<h2>{t.task.capitalize()} model — {v}</h2>",
        f"<p>Every section below describes {v}, the model this pipeline run trained. {status}</p>",
        f"<p><b>Outcome.</b> {html.escape(t.label)}</p>",
        "<h3>Participants and events</h3>",
        _table(pd.DataFrame([t.counts])),
        "<h3>Predictors and when they are measured</h3>",
        _table(t.predictors),
        "<h3>Missing data</h3><p>LightGBM routes missing values natively; the logistic baseline "
        "imputes the median and adds a missing-value indicator. Share missing per predictor "
        "(development data):</p>",
        _table(t.missing),
        f"<h3>Model, tuning and the champion decision — {v}</h3>",
        _table(pd.DataFrame([t.training["chosen"]])),
        f"<p>Cross-validated AUROC {_num(t.training['cv']['auroc'])}, calibration slope "
        f"{_num(t.training['cv']['calibration_slope'])}. The quality gate and the comparison "
        f"with the champion used {_num(t.training.get('decided_on'))}. Decision: "
        f"{_num(t.registry.get('reason'))}.</p>",
        f"<h3>Performance on the held-out test data — {v} (95 % bootstrap intervals)</h3>",
        _table(performance_table(m)),
        _truth_calibration(m),
        "<p><b>Paired differences</b> (both models scored on the same bootstrap resamples, so "
        "the interval is for the difference itself; an interval that spans 0 means the data "
        "cannot tell the two apart):</p>",
        _table(paired_table(m)),
        f"<p><b>Overfitting.</b> Optimism-corrected AUROC (development data) "
        f"{_num(opt['auroc']['corrected'])}, calibration slope "
        f"{_num(opt['calibration_slope']['corrected'])}: each of the bootstrap refits repeats "
        "the training procedure (grouped cross-validation, early stopping, the calibration "
        "choice and its cross-fitted map); only the hyperparameter search is not repeated.</p>",
        '<div class="figs">'
        + "".join(
            _figure(t.figures[k], CAPTIONS[k])
            for k in CAPTIONS
            if k in t.figures and k not in ("importance", "truth_recovery", "stability", "beeswarm")
        )
        + "</div>",
        f"<h3>Which design is this? — {v}</h3>",
        f"<p>A model that knows only each design's outcome rate reaches AUROC "
        f"{_interval(d, 'design_only_auroc')}. Within designs (pairs of patients from the same "
        f"design only) the model reaches {_interval(d, 'within_design_auroc_model')}"
        + (
            f", the oracle {_interval(d, 'within_design_auroc_oracle')}.</p>"
            if "within_design_auroc_oracle" in d
            else ".</p>"
        ),
        _table(t.within_design) if len(t.within_design) else "",
        f"<h3>Subgroups — {v}</h3>",
        _table(t.subgroups, flag="flag" if "flag" in t.subgroups else None)
        if len(t.subgroups)
        else "<p>No subgroup large enough.</p>",
        f"<h3>Internal–external validation (leave one design out) — {v}'s procedure</h3>",
        _table(t.internal_external) if len(t.internal_external) else "<p>Too few designs.</p>",
        *_explanations(t, v),
    ]
    return "\n".join(parts)


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
        f"{_num(m['test'].get('truth_mean_abs'))}, 90th percentile "
        f"{_num(m['test'].get('truth_e90'))}. The smoothed ICI measures the same thing with "
        f"noise: the oracle itself scores ICI {_num(m['oracle'].get('ici'))}, which is "
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
        + "".join(_figure(t.figures[k], CAPTIONS[k]) for k in figs if k in t.figures)
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
            _table(t.importance.head(12)),
            gallery,
        ]
    return [
        f"<h3>Explanations and their truth recovery — {v}</h3>",
        _aliased(t.recovery),
        _table(recovery_table(t.recovery)),
        _table(t.importance.head(12)),
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
        benefit_html(card.benefit, _figure, _table) if card.benefit else "",
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
        _table(card.designs),
        f"<p>Replication check: {_num(100 * r['share_inside_verified'], 0)} % of verified "
        f"published trial figures fall inside their simulated 95 % intervals "
        f"({_num(100 * r['share_inside'], 0)} % of all {int(r['n_targets'])} targets; see "
        "reports/trials/replication.html).</p>",
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
        _table(rows),
    ]
