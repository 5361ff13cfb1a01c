"""The replication table's summary and its Markdown and HTML renderings."""

from __future__ import annotations

from ketapredict.replicate.report import summary, to_html, to_markdown


def _row(trial: str, kind: str, inside: bool, verified: bool = True) -> dict[str, object]:
    return {
        "trial": trial, "kind": kind, "statistic": "response <b>", "published": 0.5,
        "simulated_median": 0.45, "low": 0.3, "high": 0.6, "population_value": None,
        "inside": inside, "verified": verified, "tuned": False,
    }  # fmt: skip


RECORDS = [
    _row("a", "trial", True),
    _row("a", "trial", False),
    _row("b", "trial", False, verified=False),
    _row("pooled", "pooled", True),
]


def test_summary_counts_the_shares_inside() -> None:
    s = summary(RECORDS)
    assert s["share_inside"] == 0.5 and s["share_inside_trial"] == 1 / 3
    assert s["share_inside_verified"] == 0.5 and s["share_inside_pooled"] == 1.0
    assert s["n_targets"] == 4.0 and s["n_verified_outside"] == 1.0


def test_markdown_has_one_row_per_record_and_the_settings() -> None:
    text = to_markdown(RECORDS, replications=200, population_n=20000)
    assert "simulated at its published size 200 times" in text and "20000 patients" in text
    rows = [line for line in text.splitlines() if line.startswith("| a ") or "| b " in line]
    assert len(rows) == 3 and "| —" in rows[0]


def test_html_escapes_text_and_shades_rows_outside() -> None:
    page = to_html(RECORDS, replications=200, population_n=20000)
    assert "response &lt;b&gt;" in page and "response <b>" not in page
    assert page.count('<tr class="out">') == 2
