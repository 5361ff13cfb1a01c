"""The replication table as Markdown and as a self-contained HTML page."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

Record = dict[str, Any]


def summary(records: Sequence[Record]) -> dict[str, float]:
    """Shares of targets inside their simulated 95 % interval."""

    def share(rows: list[Record]) -> float:
        return sum(r["inside"] for r in rows) / len(rows) if rows else float("nan")

    trial = [r for r in records if r["kind"] == "trial"]
    verified = [r for r in trial if r["verified"]]
    return {
        "share_inside": share(list(records)),
        "share_inside_trial": share(trial),
        "share_inside_verified": share(verified),
        "share_inside_pooled": share([r for r in records if r["kind"] == "pooled"]),
        "n_targets": float(len(records)),
        "n_verified_outside": float(sum(not r["inside"] for r in verified)),
    }


def _fmt(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"
    return str(x)


COLUMNS = [
    ("trial", "trial"),
    ("statistic", "statistic"),
    ("published", "published"),
    ("simulated_median", "simulated median"),
    ("low", "95 % low"),
    ("high", "95 % high"),
    ("population_value", "population value"),
    ("inside", "inside"),
    ("verified", "verified"),
    ("tuned", "tuned"),
]

INTRO = (
    "Each preset trial is simulated at its published size {R} times; the interval is the 2.5th "
    "to 97.5th percentile of the simulated statistic. *Population value*: the same design "
    "simulated with {N} patients. Pooled figures pool the presets of the same kind at the "
    "meta-analysis's size. *verified*: false for figures trials.md marks UNVERIFIED. *tuned*: "
    "the shared effect model was tuned to this figure (README, Calibration)."
)


def to_markdown(records: Sequence[Record], *, replications: int, population_n: int) -> str:
    s = summary(records)
    lines = [
        "# Simulated vs published ketamine trials",
        "",
        INTRO.format(R=replications, N=population_n),
        "",
        f"Inside: {s['share_inside']:.0%} of all targets, {s['share_inside_verified']:.0%} of "
        f"verified trial targets, {s['share_inside_pooled']:.0%} of pooled figures.",
        "",
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for r in records:
        lines.append("| " + " | ".join(_fmt(r[key]) for key, _ in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .5rem}
th{background:#f3f3f3}td.num{text-align:right}tr.out td{background:#fdecea}
.note{max-width:60rem;color:#444}
"""


def to_html(records: Sequence[Record], *, replications: int, population_n: int) -> str:
    s = summary(records)
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in COLUMNS)
    rows = []
    for r in records:
        cells = "".join(
            f'<td class="{"num" if isinstance(r[k], float) else ""}">{html.escape(_fmt(r[k]))}</td>'
            for k, _ in COLUMNS
        )
        rows.append(f'<tr class="{"" if r["inside"] else "out"}">{cells}</tr>')
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<title>ketapredict: simulated vs published trials</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>Simulated vs published ketamine trials</h1>"
        f"<p class='note'>{html.escape(INTRO.format(R=replications, N=population_n))}</p>"
        f"<p>Inside: {s['share_inside']:.0%} of all targets, "
        f"{s['share_inside_verified']:.0%} of verified trial targets, "
        f"{s['share_inside_pooled']:.0%} of pooled figures. Rows outside are shaded.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<p class='note'>Synthetic data, research use only.</p></body></html>\n"
    )
