"""The model card: TRIPOD+AI items a run can fill, as self-contained HTML and as Markdown.
Pure: the run's outputs (numbers, tables, PNG bytes) in, text out."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ketapredict import RESEARCH_NOTICE, __version__

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
    figures: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Card:
    commit: str
    designs: pd.DataFrame
    replication: dict[str, Any]
    tasks: list[TaskCard]


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
    for _, r in frame.iterrows():
        cls = ' class="flag"' if flag and bool(r[flag]) else ""
        cells = "".join(
            f'<td class="{"n" if isinstance(v, int | float) else ""}">{_num(v)}</td>'
            for c, v in r.items()
            if c != flag
        )
        rows.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _interval(m: dict[str, Any], key: str) -> str:
    return f"{_num(m.get(key))} ({_num(m.get(f'{key}_low'))}–{_num(m.get(f'{key}_high'))})"


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
    for label, key in (
        ("LightGBM", "test"),
        ("Logistic", "baseline"),
        ("Oracle (true risk)", "oracle"),
    ):
        m = metrics[key]
        rows.append(
            {"model": label, **{k: _interval(m, k) for k in keys}, "ICI": _num(m.get("ici"))}
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
    "subgroups": "AUROC by subgroup (flagged: markedly worse than the oracle in that group)",
    "importance": "Mean |SHAP| per characteristic vs the true importance",
    "truth_recovery": "SHAP importance against the true importance",
    "beeswarm": "SHAP values per patient (log-odds)",
}


def _task_html(t: TaskCard) -> str:
    m = t.metrics
    parts = [
        f"<h2>{t.task.capitalize()} model</h2>",
        f"<p><b>Outcome.</b> {html.escape(t.label)}</p>",
        "<h3>Participants and events</h3>",
        _table(pd.DataFrame([t.counts])),
        "<h3>Predictors and when they are measured</h3>",
        _table(t.predictors),
        "<h3>Missing data</h3><p>LightGBM routes missing values natively; the logistic baseline "
        "imputes the median and adds a missing-value indicator. Share missing per predictor "
        "(development data):</p>",
        _table(t.missing),
        "<h3>Model and tuning</h3>",
        _table(pd.DataFrame([t.training["chosen"]])),
        f"<p>Cross-validated AUROC {_num(t.training['cv']['auroc'])}; registered as "
        f"{_num(t.registry.get('registered_model'))} version {_num(t.registry.get('version'))}: "
        f"{_num(t.registry.get('reason'))}.</p>",
        "<h3>Performance on the held-out test data (95 % bootstrap intervals)</h3>",
        _table(performance_table(m)),
        f"<p>AUROC is {_num(m['test'].get('auroc_vs_oracle'))} of the oracle's; mean absolute "
        f"error against the true probabilities {_num(m['test'].get('truth_mean_abs'))}; "
        "mean net-benefit regret vs the oracle "
        f"{_num(m['test'].get('net_benefit_regret_mean'), 4)}. "
        f"Optimism-corrected AUROC (development data) {_num(m['optimism']['auroc']['corrected'])}, "
        f"calibration slope {_num(m['optimism']['calibration_slope']['corrected'])}.</p>",
        '<div class="figs">'
        + "".join(
            _figure(t.figures[k], CAPTIONS[k])
            for k in CAPTIONS
            if k in t.figures and k not in ("importance", "truth_recovery", "beeswarm")
        )
        + "</div>",
        "<h3>Subgroups</h3>",
        _table(t.subgroups, flag="flag")
        if len(t.subgroups)
        else "<p>No subgroup large enough.</p>",
        "<h3>Internal–external validation (leave one design out)</h3>",
        _table(t.internal_external) if len(t.internal_external) else "<p>Too few designs.</p>",
        "<h3>Explanations and their truth recovery</h3>",
        _table(pd.DataFrame([{k: v for k, v in t.recovery.items() if not isinstance(v, dict)}])),
        _table(t.importance.head(12)),
        '<div class="figs">'
        + "".join(
            _figure(t.figures[k], CAPTIONS[k])
            for k in ("importance", "truth_recovery", "beeswarm")
            if k in t.figures
        )
        + "</div>",
    ]
    return "\n".join(parts)


def to_html(card: Card) -> str:
    r = card.replication
    body = [
        f"<h1>ketapredict model card</h1><p>ketapredict {__version__}, commit "
        f"<code>{html.escape(card.commit)}</code></p>",
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
        *(_task_html(t) for t in card.tasks),
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>ketapredict model card</title>"
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )


def to_markdown(card: Card) -> str:
    lines = ["# ketapredict model card (summary)", "", f"> {RESEARCH_NOTICE}", ""]
    r = card.replication
    share = 100 * r["share_inside_verified"]
    lines.append(f"Replication: {share:.0f} % of verified published figures inside.")
    for t in card.tasks:
        m = t.metrics
        lines += [
            "",
            f"## {t.task.capitalize()}",
            "",
            f"- Outcome: {t.label}",
            f"- Test AUROC {_interval(m['test'], 'auroc')}; oracle {_num(m['oracle']['auroc'])}",
            f"- Calibration intercept {_interval(m['test'], 'calibration_intercept')}, slope "
            f"{_interval(m['test'], 'calibration_slope')}",
            f"- SHAP vs truth: Spearman {_num(t.recovery['spearman'])}, top-5 overlap "
            f"{_num(t.recovery['top5_overlap'])}, noise share {_num(t.recovery['noise_share'])}",
            f"- Registry: {t.registry.get('registered_model')} v{t.registry.get('version')}: "
            f"{t.registry.get('reason')}",
        ]
    return "\n".join(lines) + "\n"
