"""On a fresh clone the replicate stage is up to date (its reports are in git) and DVC skips
it: the report stage then logs the committed replication to MLflow, once per result."""

from __future__ import annotations

import json

from ketapredict.config import load_params
from ketapredict.layout import Layout
from ketapredict.stages.replicate import ensure_logged
from tests.conftest import ROOT


def test_the_committed_replication_is_logged_once(tmp_path) -> None:
    from mlflow import MlflowClient

    paths = Layout(tmp_path)
    paths.replication.parent.mkdir(parents=True)
    summary = {"n_targets": 82, "share_inside": 0.9, "share_inside_verified": 0.93}
    paths.replication.write_text(json.dumps({"records": [], "summary": summary}))
    paths.replication_md.write_text("# replication\n")
    paths.replication_html.write_text("<html></html>\n")
    params = load_params(ROOT / "params.yaml")
    assert ensure_logged(paths, params.replicate, params.generate.scenario)
    assert not ensure_logged(paths, params.replicate, params.generate.scenario)  # found again
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("ketapredict").experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.data.tags["dvc_stage"] == "replicate"
    assert "committed" in run.data.tags["replication_source"]
    assert run.data.metrics["share_inside_verified"] == 0.93
    names = {a.path for a in client.list_artifacts(run.info.run_id, "replication")}
    assert names == {f"replication/replication.{e}" for e in ("json", "md", "html")}
