"""Scoring's streaming pieces without models: chunking of parsed batches, the read-ahead
thread and the write-behind writer."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from ketapredict.score_io import _rechunk, prefetched
from ketapredict.score_write import table_writer


def batches(sizes: list[int]) -> list[pa.RecordBatch]:
    start, out = 0, []
    for n in sizes:
        out.append(pa.record_batch({"i": pa.array(range(start, start + n))}))
        start += n
    return out


@pytest.mark.parametrize(
    "sizes",
    [[95_866, 96_753, 96_720, 40_000], [10_000] * 23, [250_000], [1], [3_000, 140_000], [5] * 7],
)
def test_chunks_keep_every_row_in_order_and_stay_near_the_chunk_size(sizes: list[int]) -> None:
    rows, first = 100_000, 2_000
    chunks = list(_rechunk(iter(batches(sizes)), rows, first=first))
    values = [v for c in chunks for v in c.column("i").to_pylist()]
    assert values == list(range(sum(sizes)))
    assert chunks[0].num_rows <= max(first * 3 // 2, 1) or len(chunks) == 1
    for chunk in chunks[1:-1]:
        assert rows // 2 <= chunk.num_rows <= rows * 3 // 2


def test_a_batch_the_size_of_a_chunk_is_sliced_not_copied() -> None:
    big = batches([2_000 + 103_000])[0]
    chunks = list(_rechunk(iter([big]), 100_000, first=2_000))
    assert [c.num_rows for c in chunks] == [2_000, 103_000]
    address = big.column(0).buffers()[1].address
    assert chunks[1].column(0).buffers()[1].address == address  # same memory, offset view


def test_read_ahead_passes_errors_on_and_stops_its_thread() -> None:
    def items():
        yield 1
        yield 2
        raise ValueError("bad block")

    got = []
    with pytest.raises(ValueError, match="bad block"):
        for item in prefetched(items()):
            got.append(item)
    assert got == [1, 2]
    assert not [t for t in threading.enumerate() if t.name == "ketapredict-read"]


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
