"""The model card's benefit section: who benefits from ketamine over its comparator, how well
each learner recovers the true individual benefit, and what drives it. Pure: the evaluation's
numbers and figures in, HTML or Markdown out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ketapredict.benefit.evaluation import ORACLE

# The measures the card shows, in order, with what each says.
COLUMNS = {
    "spearman": "Spearman with true benefit",
    "c_for_benefit": "c-for-benefit (true)",
    "c_for_benefit_observed": "c-for-benefit (observed pairs)",
    "pehe": "PEHE",
    "calibration_slope": "calibration slope",
    "policy_gain": "policy gain /100",
    "share_of_oracle_gain": "share of oracle gain",
}


@dataclass
class BenefitCard:
    metrics: dict[str, Any]  # reports/benefit/metrics.json
    roles: dict[str, Any]  # reports/benefit/roles.json
    threshold: float
    figures: dict[str, bytes] = field(default_factory=dict)


def _cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
    text = f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    if low is not None and high is not None and key != "share_of_oracle_gain":
        text += f" ({low:.3g} to {high:.3g})"
    return text


def measures_table(metrics: dict[str, Any]) -> pd.DataFrame:
    learners = metrics["learners"]
    order = [n for n in learners if n != ORACLE] + [ORACLE]
    rows = [
        {"learner": n, **{label: _cell(learners[n], k) for k, label in COLUMNS.items()}}
        for n in order
    ]
    # each learner's SHAP ranking: the share of its top-k characteristics truly predictive
    shares = metrics.get("top_predictive_share", {})
    for row in rows:
        share = shares.get(row["learner"])
        row["true modifiers among its top SHAP"] = "" if share is None else f"{share:.0%}"
    return pd.DataFrame(rows)


def roles_table(roles: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {"characteristic": name, "label": c["label"], "true role at 24 h": c["true_role"],
         "benefit importance": f"{c['benefit_importance']:.4f}",
         "response importance": f"{c['response_importance']:.4f}"}
        for name, c in roles["characteristics"].items()
    ]  # fmt: skip
    return pd.DataFrame(rows).sort_values("benefit importance", ascending=False)


def _summary(card: BenefitCard) -> str:
    m, s = card.metrics, card.roles["score"]
    best = m["learner"]
    status = (
        f"Registered as ketapredict-benefit v{m['model_version']}."
        if m.get("model_version")
        else "No version registered."
    )
    paired = m["paired"].get(f"prognostic_minus_{best}", {})
    naive = ""
    if paired:
        naive = (
            f" Ranking patients by their predicted response on ketamine instead (the naive "
            f"approach) changes the policy's value by {paired['policy_value']:+.2f} responses per "
            f"100 ({paired['policy_value_low']:+.2f} to {paired['policy_value_high']:+.2f})."
        )
    return (
        f"Benefit is the risk difference of response at 24 h, ketamine minus the comparator of "
        f"the patient's trial ({m['comparator']}), estimated from the randomized contrasts "
        f"only and judged on {m['test_patients']} held-out patients against each one's true "
        f"benefit. The learner chosen without the truth is <b>{best}</b>. {status} The policy "
        f"is 'give ketamine if estimated benefit > {card.threshold:g}', each patient treated "
        f"counting {card.threshold:g} responses against.{naive} Characteristics labelled "
        f"predictive: {s['predictive_labelled']} (sensitivity "
        f"{_pct(s['predictive_sensitivity'])} of the {s['predictive_true']} truly predictive "
        f"at 24 h; false-discovery share {_pct(s['predictive_false_discovery'])}). On the "
        "risk-difference scale a purely prognostic characteristic also moves the benefit "
        "(the same odds ratio on a different baseline risk), which the truth's log-odds roles "
        "count as a false discovery."
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f} %"


def to_html(card: BenefitCard, figure: Any, table: Any) -> str:
    """The section; `figure(png_bytes, caption)` and `table(frame)` render a figure and a
    table as the rest of the card does."""
    figs = "".join(figure(data, name.replace("_", " ")) for name, data in card.figures.items())
    return (
        "<h2>Who benefits (treatment benefit)</h2>"
        f"<p>{_summary(card)}</p>"
        "<p>Measures on the held-out patients (95 % bootstrap intervals of patients):</p>"
        f"{table(measures_table(card.metrics))}"
        f'<div class="figs">{figs}</div>'
        "<h3>Prognostic or predictive?</h3>"
        "<p>Predictive: the characteristic's SHAP importance in the benefit model beats every "
        "characteristic's under arms permuted within each design (95th percentile of the "
        "maxima); prognostic: likewise for a response model read on the comparator.</p>"
        f"{table(roles_table(card.roles))}"
    )


def to_markdown(card: BenefitCard) -> list[str]:
    m = card.metrics
    best = m["learners"][m["learner"]]
    oracle = m["learners"][ORACLE]
    return [
        "",
        "## Who benefits (treatment benefit)",
        "",
        f"- Learner chosen without the truth: {m['learner']}; Spearman with the true benefit "
        f"{_cell(best, 'spearman')}; c-for-benefit {_cell(best, 'c_for_benefit')}",
        f"- Policy 'treat if estimated benefit > {card.threshold:g}': gain "
        f"{_cell(best, 'policy_gain')} responses per 100 over the best blanket policy "
        f"(oracle {_cell(oracle, 'policy_gain')})",
        f"- Predictive labels: {card.roles['score']['predictive_labelled']}, false-discovery "
        f"share {_pct(card.roles['score']['predictive_false_discovery'])}",
    ]
