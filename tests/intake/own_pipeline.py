"""What `dvc repro` on a user's cohort must produce: models registered, metrics and the card
written, every oracle section absent and said so, no benefit model (said why), no user row in
MLflow's input examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ketapredict.contract import TASKS
from ketapredict.datasets import NO_ORACLE
from ketapredict.layout import Layout
from ketapredict.stages.train import input_example


def check_outputs(project: Path, shape: str) -> None:
    paths = Layout(project)
    summary = json.loads(paths.features_summary.read_text())
    assert summary["source"]["source"] == "files" and summary["source"]["shape"] == shape
    assert len(summary["source"]["sha256"]) == 64 and summary["source"]["rows"]
    metrics = json.loads(paths.metrics.read_text())
    recovery = json.loads(paths.truth_recovery.read_text())
    for task in TASKS:
        registry = json.loads(paths.registry_record(task).read_text())
        assert registry["version"] == "1" and registry["exported"] == "1"
        assert (project / "models" / task / "MLmodel").exists()
        m = metrics[task]
        assert m["oracle"] == NO_ORACLE
        assert 0.5 < m["test"]["auroc"] < 1 and "auroc_vs_oracle" not in m["test"]
        assert "within_design_auroc_oracle" not in m["designs"]
        subgroups = pd.read_csv(paths.stage_table("evaluate", task, "subgroups"))
        assert "oracle_auroc" not in subgroups.columns
        assert recovery[task]["oracle"] == NO_ORACLE
        shares = recovery[task]["top5_share"]
        assert abs(sum(shares.values()) - 5) < 1e-9  # five places in each resample
    card = paths.model_card_html.read_text()
    assert card.count("<b>No oracle.</b>") == 2 and "stability of their ranking" in card
    assert "Calibration against the truth" not in card and "Replication check" not in card
    assert "user's cohort" in card and summary["source"]["sha256"][:16] in card
    benefit = json.loads(paths.benefit_metrics.read_text())
    assert "truth" in benefit["skipped"]
    assert (project / "models" / "benefit" / "NO_CHAMPION.txt").exists()


def check_mlflow_holds_no_patient(project: Path) -> None:
    """The runs say there is no oracle, and hold no file that shows single patients (SHAP
    values per patient, waterfalls, dependence plots, the beeswarm)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    for task in TASKS:
        run_id = json.loads(Layout(project).registry_record(task).read_text())["run_id"]
        run = client.get_run(run_id)
        assert run.data.tags["oracle"] == NO_ORACLE
        assert not any(k.startswith(("cv_oracle_", "test_oracle_")) for k in run.data.metrics)
        names = [a.path for a in client.list_artifacts(run_id, "explain")]
        assert any(n.endswith("stability.csv") for n in names)
        shown = [n.rsplit("/", 1)[-1] for n in names]
        assert not [n for n in shown if n.startswith(("shap_values", "waterfall", "beeswarm"))]


def check_input_example_is_synthetic(project: Path) -> None:
    """The logged input example never holds a user's row: given rows of sentinel values, the
    example comes from the generator's patients instead."""
    paths = Layout(project)
    table = pd.read_parquet(paths.table("responder"))
    rows = table.head(20).copy()
    rows["age"] = 99.25
    example = input_example(paths, "responder", rows[["age", "drug", "female"]])
    assert len(example) == 5 and not (example["age"] == 99.25).any()


def check_validate_reproduces_evaluate(project: Path, tmp: Path) -> None:
    """`ketapredict validate` of the champion from the registry on the test patients (their
    flat table) gives the evaluate stage's test measures: same patients, same numbers."""
    from ketapredict.intake import export
    from tests.helpers import cli

    paths = Layout(project)
    table = pd.read_parquet(paths.table("responder"))
    export.write({"responder": export.flat_responder(table[table["split"] == "test"])}, tmp)
    out = tmp / "validation"
    uri = "models:/ketapredict-responder@champion"
    result = cli(["validate", str(tmp), "--model-uri", uri, "--out", str(out)], project)
    assert result.returncode == 0, result.stderr
    mine = pd.read_csv(out / "measures.csv").set_index("model").loc["LightGBM"]
    stage = pd.read_csv(paths.stage_table("evaluate", "responder", "measures"))
    theirs = stage.set_index("model").loc["LightGBM", mine.index]
    pd.testing.assert_series_equal(mine, theirs, check_names=False, rtol=1e-12)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"]["version"] == "1" and summary["rows"] == int(mine["n"])
    # recalibration in the large: the re-estimated intercept leaves none on this cohort
    again = cli(["validate", str(tmp), "--model-uri", uri, "--out", str(out), "--recalibrate"],
                project)  # fmt: skip
    assert again.returncode == 0, again.stderr
    rows = pd.read_csv(out / "measures.csv").set_index("model")
    assert abs(rows.loc["LightGBM, recalibrated in the large", "calibration_intercept"]) < 1e-6
    assert rows.loc["LightGBM", "auroc"] == rows.loc["LightGBM, recalibrated in the large", "auroc"]


def shape_tests(*, flat: bool) -> dict[str, Any]:
    """The fixture and tests of one shape by name, for a test file to bind as its own (one file
    per shape, so the two end-to-end runs go to separate test workers)."""
    import pytest

    from tests.helpers import own_data_pipeline

    shape = "flat" if flat else "three tables"

    @pytest.fixture(scope="module")
    def project(tmp_path_factory):
        return own_data_pipeline(tmp_path_factory.mktemp("own"), flat=flat)

    def test_the_pipeline_runs_without_an_oracle_and_says_so(project) -> None:
        check_outputs(project, shape)

    def test_no_user_row_goes_to_mlflow(project) -> None:
        check_input_example_is_synthetic(project)
        check_mlflow_holds_no_patient(project)

    def test_validate_reproduces_the_evaluate_stage(project, tmp_path) -> None:
        check_validate_reproduces_evaluate(project, tmp_path)

    return {f.__name__: f for f in (
        project, test_the_pipeline_runs_without_an_oracle_and_says_so,
        test_no_user_row_goes_to_mlflow, test_validate_reproduces_the_evaluate_stage,
    )}  # fmt: skip
