"""The model card's rendering, pure: numbers and tables in, HTML and Markdown out."""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd
import pytest

from ketapredict import RESEARCH_NOTICE, report, report_markdown
from ketapredict.contract import BASELINE, MODEL, ORACLE
from ketapredict.errors import DataError


def _measures(auroc: float) -> dict[str, Any]:
    keys = ("auroc", "auprc", "brier", "scaled_brier", "log_loss", "calibration_intercept",
            "calibration_slope")  # fmt: skip
    out: dict[str, Any] = {"ici": 0.01, "truth_mean_abs": 0.02, "truth_e90": 0.05}
    for key in keys:
        out |= {key: auroc, f"{key}_low": auroc - 0.05, f"{key}_high": auroc + 0.05}
    return out


def _interval(value: float) -> dict[str, float]:
    return {"auroc": value, "auroc_low": value - 0.1, "auroc_high": value + 0.1}


def _task(**changes: Any) -> report.TaskCard:
    recovery = {"spearman": 0.9, "top5_overlap": 0.8, "sign_agreement": 1.0,
                "noise_share": 0.01, "noise_in_top5": 0.0}  # fmt: skip
    subgroups = pd.DataFrame(
        {
            "group": ["sex", "sex"],
            "level": ["female", "male"],
            "n": [400, 380],
            "flag": [True, False],
        }
    )
    card = {
        "task": "responder",
        "label": "improvement of at least 50% from baseline (response)",
        "counts": {"rows": 1200, "events": 480},
        "predictors": pd.DataFrame({"predictor": ["age"], "unit": ["years"]}),
        "missing": pd.DataFrame({"predictor": ["bmi"], "share_missing": [0.1]}),
        "training": {
            "chosen": {"num_leaves": 7, "n_trees": 120},
            "cv": {"auroc": 0.71, "calibration_slope": 0.98},
            "decided_on": "cross-validated out-of-fold predictions",
        },
        "metrics": {
            "test": _measures(0.7),
            "baseline": _measures(0.65),
            "oracle": _measures(0.75),
            "paired": {
                "model_minus_baseline": {
                    **_interval(0.05),
                    "brier": -0.01,
                    "brier_low": -0.02,
                    "brier_high": 0.0,
                }
            },
            "designs": {"design_only_auroc": 0.6, "within_design_auroc_model": 0.68},
            "optimism": {"auroc": {"corrected": 0.69}, "calibration_slope": {"corrected": 0.95}},
        },
        "subgroups": subgroups,
        "internal_external": pd.DataFrame({"design": ["sustain1"], "auroc": [0.66]}),
        "recovery": {**recovery, "raw": recovery, "aliased_blocks": {"a + b": "a, b"}},
        "importance": pd.DataFrame({"characteristic": ["age"], "importance": [0.3]}),
        "registry": {
            "registered_model": "ketapredict-responder",
            "version": "3",
            "crowned": True,
            "reason": "passed the quality gate; champion",
        },
    }
    return report.TaskCard(**{**card, **changes})


def _card(*tasks: report.TaskCard) -> report.Card:
    designs = pd.DataFrame({"design": ["sustain1"], "title": ["SUSTAIN-1"], "patients": [300]})
    replication = {"share_inside_verified": 0.9, "share_inside": 0.85, "n_targets": 40}
    return report.Card("abc123", designs, replication, list(tasks or [_task()]))


def test_the_html_card_renders_each_table() -> None:
    page = report.to_html(_card())
    assert page.startswith("<!doctype html>") and page.endswith("</html>\n")
    assert RESEARCH_NOTICE in page and "<code>abc123</code>" in page
    headers = {  # as a reader says them, not as columns are named
        "designs": "Design",
        "participants": "Events",
        "predictors": "Unit",
        "missing data": "Share missing",
        "tuning": "Num leaves",
        "performance": "Measure (95 % CI)",
        "paired differences": "Δ AUROC",
        "subgroups": "Group",
        "internal-external": "AUROC",
        "truth recovery": "Scoring",
        "importance": "Characteristic",
    }
    for table, header in headers.items():
        assert f"<th>{header}</th>" in page, table
    assert page.count("<table>") == len(headers)  # within_design is empty: no table
    assert not [h for h in re.findall("<th>(.*?)</th>", page) if "_" in h]  # no snake_case
    for label in (MODEL, BASELINE, ORACLE):  # the performance table: a column per model
        assert f"<th>{label}</th>" in page, label
    assert "Responder model — ketapredict-responder v3" in page
    assert "It holds the champion alias" in page
    assert "<li>a, b</li>" in page  # aliased characteristics, scored as one block


def test_intervals_read_a_to_b() -> None:
    page = report.to_html(_card())
    assert '<td class="">0.700 (0.650 to 0.750)</td>' in page
    assert "LightGBM − logistic baseline" in page and "0.050 (-0.050 to 0.150)" in page
    text = report_markdown.to_markdown(_card())
    assert "- Test AUROC 0.700 (0.650 to 0.750); oracle 0.750" in text
    assert "within designs 0.680 (— to —)" in text  # a missing bound is a dash, not an error


def test_flagged_subgroups_are_marked_and_the_flag_column_is_not_shown() -> None:
    page = report.to_html(_card())
    table = page[page.index("<h3>Subgroups") :]
    table = table[: table.index("</table>")]
    assert table.count('<tr class="flag">') == 1 and "<th>flag</th>" not in table


def test_a_card_without_figures_or_subgroups_says_so() -> None:
    page = report.to_html(_card(_task(subgroups=pd.DataFrame())))
    assert "No subgroup large enough." in page and "<img" not in page
    png = b"\x89PNG fake"
    with_figure = report.to_html(_card(_task(figures={"roc": png})))
    assert with_figure.count("<img") == 1 and "data:image/png;base64,iVBORyBmYWtl" in with_figure


def test_text_from_the_run_is_escaped() -> None:
    task = _task(
        registry={
            "registered_model": "m",
            "version": "<b>1</b>",
            "crowned": False,
            "reason": "not champion: <script>",
            "previous_champion": "7",
        }
    )
    page = report.to_html(_card(task))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "the champion is version 7" in page


def test_markdown_names_the_model_every_figure_describes() -> None:
    card = _card(_task(), _task(task="relapse", label="relapse in 28 days"))
    text = report_markdown.to_markdown(card)
    assert text.startswith("# ketapredict model card (summary)\n")
    assert "## Responder" in text and "## Relapse" in text
    assert "- Every figure here describes ketapredict-responder v3: passed the quality gate" in text
    assert "Replication: 90 % of verified published figures inside." in text


def test_a_card_refuses_reports_of_different_model_versions() -> None:
    report.check_same_model("relapse", {"train": "4", "evaluate": "4", "explain": "4"})
    with pytest.raises(DataError, match=r"relapse: .*different model versions .*'explain': '3'"):
        report.check_same_model("relapse", {"train": "4", "evaluate": "4", "explain": "3"})


def test_counts_stay_whole_numbers_beside_a_float_column() -> None:
    """A float in the participants table (the horizon in days) must not turn the counts
    beside it into floats ("1641.000")."""
    task = _task(task="relapse", label="relapse in 28 days")
    task.counts = {"rows": 1641, "events": 288, "horizon_days": 28.0}
    page = report.to_html(_card(task))
    assert '<td class="n">1,641</td>' in page and "1641.000" not in page
    assert '<td class="n">28.000</td>' in page


def _importance(rows: list[tuple[str, float, bool, bool | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["characteristic", "importance", "no_true_effect", "sign_agrees"]
    )


def test_the_card_says_when_a_no_effect_characteristic_is_in_the_shap_top_5() -> None:
    blocks = _importance([("age", 0.3, False, True), ("a + b", 0.2, False, None)])
    raw = _importance([("age", 0.3, False, True), ("b", 0.2, True, None), ("bmi", 0.1, True, None)])
    page = report.to_html(_card(_task(importance=blocks, raw_importance=raw)))
    said = html.unescape(page[page.index("What the tables below show") :])
    # b is aliased with a: the card says so; bmi has no effect and no excuse
    assert "b is number 2 in the SHAP figures' top 5 though the generator gave it no effect" in said
    assert "moves in lockstep with a" in said
    assert "bmi is number 3" in said and "correlate of the outcome" in said
    assert ">nan<" not in page  # a sign without a true effect is a dash
    clean = report.to_html(_card(_task(importance=blocks, raw_importance=blocks)))
    assert "Every characteristic in the SHAP top 5 has a true effect." in clean


def test_the_card_says_when_risks_do_not_transport_to_a_left_out_design() -> None:
    left_out = pd.DataFrame(
        {
            "trial": ["sustain1", "zarate2006"],
            "auroc": [0.66, 0.7],
            "observed_over_expected": [0.39, 1.02],
        }
    )
    text = report_markdown.to_markdown(_card(_task(internal_external=left_out)))
    assert "1 of 2 designs is poorly calibrated in the large" in text
    assert "sustain1 0.39 (over-predicted)" in text and "factor 2.6" in text
    assert "zarate2006" not in text.split("What the")[1]
    fine = report.to_html(_card(_task(internal_external=left_out.iloc[1:])))
    assert "stay within 0.8–1.25 on every left-out design" in fine


def test_the_card_says_whether_the_flexible_model_beats_the_baseline() -> None:
    text = report_markdown.to_markdown(_card())
    # the fixture's Δ AUROC is 0.05 (-0.05 to 0.15): the interval spans 0
    assert "cannot be told apart" in text
    assert "1 subgroup(s) flagged" in text
