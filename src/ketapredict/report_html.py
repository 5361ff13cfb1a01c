"""The model card's HTML building blocks: its style sheet, a number as a cell, a table with
headers a reader says, an estimate with its interval, an embedded figure. Pure: values in, text
out."""

from __future__ import annotations

import base64
import html
import math
from typing import Any

import pandas as pd

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:72rem;
margin:2rem auto;padding:0 1rem;color:#1d1d1d;line-height:1.45}
h1{font-size:1.7rem}h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}th,td{border:1px solid #ccc;
padding:.25rem .5rem;text-align:left}th{background:#f1f4f8}td.n{text-align:right}
.notice{background:#fff4e5;border-left:5px solid #E69F00;padding:.7rem 1rem}
.figs{display:flex;flex-wrap:wrap;gap:1rem}.figs figure{margin:0;flex:1 1 30rem;max-width:48rem}
.figs img{width:100%;border:1px solid #ddd}figcaption{font-size:.85rem;color:#555}
tr.flag td{background:#fdecea}.wide{overflow-x:auto;max-width:100%}
.findings{background:#eef5fb;border-left:5px solid #0072B2;padding:.5rem 1rem .5rem 2rem}
"""

# Column names as a reader says them; others lose their underscores (_header).
HEADERS = {
    "excluded_unknown_label": "excluded (label unknown)",
    "share_missing": "share missing",
    "n": "n",
    "no_true_effect": "no true effect",
    "sign_agrees": "sign agrees with the truth",
    "true_importance": "true importance",
    "importance": "mean |SHAP|",
    "top5_share": "share of resamples in the top 5",
    "observed_over_expected": "observed / expected",
    "oracle_auroc": "oracle AUROC",
    "noise_share": "noise share",
    "noise_in_top5": "noise in top 5",
    "top5_overlap": "top-5 overlap",
    "sign_agreement": "sign agreement",
}
ACRONYMS = {"auroc": "AUROC", "auprc": "AUPRC", "ici": "ICI", "cv": "CV", "shap": "SHAP"}


def cell(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return html.escape(str(x))


def header(column: Any) -> str:
    name = str(column)
    if not name.isidentifier():  # already written for a reader ("Δ AUROC vs oracle")
        return name
    text = HEADERS.get(name) or " ".join(ACRONYMS.get(w, w) for w in name.split("_"))
    return text[:1].upper() + text[1:]


def table(frame: pd.DataFrame, flag: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(header(c))}</th>" for c in frame.columns if c != flag)
    rows = []
    # records, not iterrows: a row as one Series takes one dtype, and a float column (e.g. the
    # horizon in days) turned every count beside it into a float ("1641.000")
    for r in frame.to_dict("records"):
        cls = ' class="flag"' if flag and bool(r[flag]) else ""
        cells = "".join(
            f'<td class="{"n" if isinstance(v, int | float) else ""}">{cell(v)}</td>'
            for c, v in r.items()
            if c != flag
        )
        rows.append(f"<tr{cls}>{cells}</tr>")
    grid = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f'<div class="wide">{grid}</div>'


def interval(m: dict[str, Any], key: str) -> str:
    return f"{cell(m.get(key))} ({cell(m.get(f'{key}_low'))} to {cell(m.get(f'{key}_high'))})"


def figure(data: bytes, caption: str) -> str:
    b64 = base64.b64encode(data).decode()
    text = html.escape(caption)
    return (
        f'<figure><img alt="{text}" src="data:image/png;base64,{b64}">'
        f"<figcaption>{text}</figcaption></figure>"
    )
