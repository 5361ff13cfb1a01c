"""The model card's Markdown summary: the same content as the HTML card, in a few lines."""

from __future__ import annotations

from typing import Any

from ketapredict import RESEARCH_NOTICE
from ketapredict.benefit.card import to_markdown as benefit_markdown
from ketapredict.report import PAIRED, Card, TaskCard
from ketapredict.report_findings import findings
from ketapredict.report_html import cell, interval


def to_markdown(card: Card) -> str:
    lines = ["# ketapredict model card (summary)", "", f"> {RESEARCH_NOTICE}", ""]
    if card.own:
        lines.append(
            f"Data: the user's cohort in {card.own['folder']} (sha256 "
            f"{card.own['sha256'][:16]}); no truth, no oracle-relative measures."
        )
    else:
        share = 100 * card.replication["share_inside_verified"]
        lines.append(f"Replication: {share:.0f} % of verified published figures inside.")
    for t in card.tasks:
        m = t.metrics
        lines += [
            "",
            f"## {t.task.capitalize()}",
            "",
            f"- Outcome: {t.label}",
            f"- Test AUROC {interval(m['test'], 'auroc')}; {_oracle_auroc(m)}"
            f"; within designs {interval(m.get('designs', {}), 'within_design_auroc_model')}, "
            f"design only {interval(m.get('designs', {}), 'design_only_auroc')}",
            f"- Calibration intercept {interval(m['test'], 'calibration_intercept')}, slope "
            f"{interval(m['test'], 'calibration_slope')}",
            f"- Every figure here describes {t.version}: {t.registry.get('reason')}",
            *(
                f"- {PAIRED[k]}: Δ AUROC {interval(m['paired'][k], 'auroc')}"
                for k in PAIRED
                if k in m.get("paired", {})
            ),
            *_truth_lines(t),
            "",
            "What the tables show:",
            "",
            *(f"- {sentence}" for sentence in findings(t)),
        ]
    if card.benefit:
        lines += benefit_markdown(card.benefit)
    return "\n".join(lines) + "\n"


def _oracle_auroc(m: dict[str, Any]) -> str:
    return f"oracle {cell(m['oracle']['auroc'])}" if isinstance(m["oracle"], dict) else "no oracle"


def _truth_lines(t: TaskCard) -> list[str]:
    """The summary's lines against the truth, or what stands in for them without it."""
    m, r = t.metrics, t.recovery
    if "oracle" in r:
        top = sorted(r["top5_share"].items(), key=lambda kv: -kv[1])[:5]
        shares = ", ".join(f"{k} {v:.2f}" for k, v in top)
        return [f"- {r['oracle']}; SHAP top 5 (share of bootstrap resamples): {shares}"]
    return [
        f"- Error against the true probabilities: mean {cell(m['test'].get('truth_mean_abs'))}"
        f", 90th percentile {cell(m['test'].get('truth_e90'))}",
        f"- SHAP vs truth (aliased characteristics as blocks): Spearman "
        f"{cell(r['spearman'])}, top-5 overlap {cell(r['top5_overlap'])}, "
        f"noise share {cell(r['noise_share'])}",
    ]
