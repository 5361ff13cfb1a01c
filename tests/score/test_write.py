"""Scoring output: tables written behind in order, failures raised in the caller, and the
metadata that travels with the scores."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from ketapredict import RESEARCH_NOTICE
from ketapredict.score.options import Summary
from ketapredict.score.write import describe, sidecar_text, table_writer


def test_writes_behind_keep_their_order_and_run_the_callback(tmp_path: Path) -> None:
    schema = pa.schema([pa.field("i", pa.int64())])
    seen: list[int] = []
    with table_writer(tmp_path / "o.csv", "csv", schema) as sink:
        for i in range(50):
            table = pa.table({"i": [i]}, schema=schema)
            sink.write_later(lambda t=table: t, lambda t: seen.append(t.num_rows))
        sink.write(pa.table({"i": [50]}, schema=schema))
    assert pcsv.read_csv(tmp_path / "o.csv").column("i").to_pylist() == list(range(51))
    assert seen == [1] * 50


def test_a_failed_write_behind_is_raised_in_the_caller(tmp_path: Path) -> None:
    schema = pa.schema([pa.field("i", pa.int64())])

    def broken() -> pa.Table:
        raise OSError("disk full")

    with (
        pytest.raises(OSError, match="disk full"),
        table_writer(tmp_path / "o.csv", "csv", schema) as sink,
    ):
        sink.write_later(broken, lambda _: None)
        for i in range(5):
            sink.write(pa.table({"i": [i]}, schema=schema))


def test_the_sidecar_holds_the_metadata_the_files_and_the_counts(tmp_path: Path) -> None:
    models = {"responder": {"uri": "http://alice:s3cret@host/m", "version": "3"}}
    meta = describe(input=tmp_path / "p.csv", tasks=["responder"], models=models, explain=2)
    assert meta["notice"] == RESEARCH_NOTICE and meta["explain"] == 2
    assert meta["risk_bands"]["intermediate"] == "0.3333 <= p < 0.6667"
    summary = Summary(rows_in=5, rows_scored=3, rows_rejected=2, rows_ood=1, rows_duplicate=1)
    text = sidecar_text(meta, summary, output=tmp_path / "s.csv", rejects=tmp_path / "r.csv")
    data = json.loads(text)
    assert data["rows"] == {
        "in": 5, "scored": 3, "rejected": 2, "out_of_distribution": 1, "duplicate_id": 1,
    }  # fmt: skip
    assert data["rejects"] == str(tmp_path / "r.csv") and data["output"] == str(tmp_path / "s.csv")
    assert "s3cret" not in text and "http://***@host/m" in text
    assert "rejects" not in json.loads(sidecar_text(meta, summary, output=tmp_path, rejects=None))
