"""The MLflow UI's descriptions: headline figures, the decision, and one click to the card."""

from __future__ import annotations

from types import SimpleNamespace

from ketapredict import describe


def _m(auroc: float) -> dict[str, float]:
    return {"auroc": auroc, "auroc_low": auroc - 0.02, "auroc_high": auroc + 0.02,
            "calibration_slope": 1.0, "calibration_slope_low": 0.9,
            "calibration_slope_high": 1.1}  # fmt: skip


def test_a_version_links_its_card_and_says_what_the_tables_show() -> None:
    link = describe.run_link(SimpleNamespace(experiment_id="1", run_id="abc"))
    assert link == "#/experiments/1/runs/abc"
    metrics = {"test": _m(0.7), "baseline": _m(0.69), "oracle": _m(0.75)}
    text = describe.full_text("responder", "3", metrics, ["A finding."], link)
    assert "[Model card](#/experiments/1/runs/abc/artifactPath/model_card/model_card.html?" in text
    assert "| LightGBM | 0.700 (0.680 to 0.720) |" in text and "- A finding." in text
    assert "oracle (true risk)" in text and "not be used for clinical decisions" in text
    own = describe.full_text("responder", "3", {**metrics, "oracle": "no truth"}, [], link)
    assert "oracle (true risk)" not in own


def test_the_training_description_names_the_models_and_the_decision() -> None:
    trained = describe.Trained(
        "relapse", "2", {"auroc": 0.8, "brier": 0.1, "calibration_slope": 0.95},
        {"auroc": 0.79}, None, "passed the quality gate; champion", {"horizon_days": 28.0},
    )  # fmt: skip
    text = describe.run_text(trained)
    assert "relapse · train · v2" in text and "relapse within 28 days" in text
    assert "`relapse_lightgbm`" in text and "**Decision:** passed the quality gate" in text
    assert "| logistic baseline | 0.790 | — | — |" in text
