"""The model card's Markdown summary: the same content as the HTML card, in a few lines."""

from __future__ import annotations

from typing import Any

from ketapredict import RESEARCH_NOTICE
from ketapredict.benefit.card import to_markdown as benefit_markdown
from ketapredict.report import PAIRED, Card, TaskCard, _interval, _num


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
            f"- Test AUROC {_interval(m['test'], 'auroc')}; {_oracle_auroc(m)}"
            f"; within designs {_interval(m.get('designs', {}), 'within_design_auroc_model')}, "
            f"design only {_interval(m.get('designs', {}), 'design_only_auroc')}",
            f"- Calibration intercept {_interval(m['test'], 'calibration_intercept')}, slope "
            f"{_interval(m['test'], 'calibration_slope')}",
            f"- Every figure here describes {t.version}: {t.registry.get('reason')}",
            *(
                f"- {PAIRED[k]}: Δ AUROC {_interval(m['paired'][k], 'auroc')}"
                for k in PAIRED
                if k in m.get("paired", {})
            ),
            *_truth_lines(t),
        ]
    if card.benefit:
        lines += benefit_markdown(card.benefit)
    return "\n".join(lines) + "\n"


def _oracle_auroc(m: dict[str, Any]) -> str:
    return f"oracle {_num(m['oracle']['auroc'])}" if isinstance(m["oracle"], dict) else "no oracle"


def _truth_lines(t: TaskCard) -> list[str]:
    """The summary's lines against the truth, or what stands in for them without it."""
    m, r = t.metrics, t.recovery
    if "oracle" in r:
        top = sorted(r["top5_share"].items(), key=lambda kv: -kv[1])[:5]
        shares = ", ".join(f"{k} {v:.2f}" for k, v in top)
        return [f"- {r['oracle']}; SHAP top 5 (share of bootstrap resamples): {shares}"]
    return [
        f"- Error against the true probabilities: mean {_num(m['test'].get('truth_mean_abs'))}"
        f", 90th percentile {_num(m['test'].get('truth_e90'))}",
        f"- SHAP vs truth (aliased characteristics as blocks): Spearman "
        f"{_num(r['spearman'])}, top-5 overlap {_num(r['top5_overlap'])}, "
        f"noise share {_num(r['noise_share'])}",
    ]
