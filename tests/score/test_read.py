"""Scoring input: CSV blocks that end at row ends, chunking of parsed batches, the read-ahead
thread, and rows named by their place in the file."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from ketapredict.errors import InputFileError
from ketapredict.score.read import _rechunk, _row_blocks, open_source, prefetched, read_chunks


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


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
@pytest.mark.parametrize("last_newline", [True, False])
def test_csv_blocks_end_at_line_ends_and_parse_as_the_whole_file(
    tmp_path: Path, ending: str, last_newline: bool
) -> None:
    lines = ["patient_id,age,diagnosis,note"]
    for i in range(3000):  # quoted values with commas, lines of varying length
        lines.append(f'p{i},{20 + i % 60},"{["MDD", "bipolar"][i % 2]}","a, {"x" * (i % 300)}"')
    text = ending.join(lines) + (ending if last_newline else "")
    path = tmp_path / "p.csv"
    path.write_text(text, newline="")
    blocks = [bytes(b) for b in _row_blocks(path, 1_000, 70_000)]
    assert b"".join(blocks) == text.encode() and len(blocks) > 5
    assert all(b.endswith(b"\n") for b in blocks[:-1])
    source = open_source(path, None)
    kinds = {"patient_id": "text", "age": "number", "diagnosis": "category"}
    columns = {name: name for name in kinds}
    chunks = list(read_chunks(source, columns, 250, kinds=kinds, fast=True))  # type: ignore[arg-type]
    got = pa.Table.from_batches(chunks).combine_chunks()
    whole = pcsv.read_csv(path).select(list(kinds))
    assert got.column("patient_id").to_pylist() == whole.column("patient_id").to_pylist()
    assert got.column("age").to_pylist() == whole.column("age").cast(pa.float64()).to_pylist()
    assert got.column("diagnosis").to_pylist() == whole.column("diagnosis").to_pylist()


def test_a_line_longer_than_a_block_makes_the_block_longer(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"a,b\n" + b"1," + b"9" * 300_000 + b"\n2,3\n")
    blocks = [bytes(b) for b in _row_blocks(path, 10, 10)]
    assert b"".join(blocks) == path.read_bytes()
    assert all(b.endswith(b"\n") for b in blocks)


def _quoted_newlines(path: Path, rows: int) -> list[str]:
    """A valid CSV whose quoted notes hold line breaks (and escaped quotes); the ids."""
    lines, ids = ["patient_id,note,age"], []
    for i in range(rows):
        note = "x" * (i % 97) + "\n" + 'say ""hi""\n' * (i % 3) + "y" * (i % 41)
        ids.append(f"p{i}")
        lines.append(f'p{i},"{note}",{20 + i % 60}')
    path.write_text("\n".join(lines) + "\n", newline="")
    return ids


@pytest.mark.parametrize("chunk_rows", [1, 7, 250, 1_000, 100_000])
def test_quoted_line_breaks_never_split_a_row_whatever_the_chunk_size(
    tmp_path: Path, chunk_rows: int
) -> None:
    ids = _quoted_newlines(tmp_path / "p.csv", 3_000)
    source = open_source(tmp_path / "p.csv", None)
    kinds = {"patient_id": "text", "age": "number"}
    columns = {name: name for name in kinds}
    chunks = read_chunks(source, columns, chunk_rows, kinds=kinds, fast=True)  # type: ignore[arg-type]
    got = pa.Table.from_batches(list(chunks))
    assert got.column("patient_id").to_pylist() == ids


def test_a_malformed_row_is_named_by_its_row_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    _quoted_newlines(path, 3_000)
    with path.open("a") as fh:
        fh.write("p3000,1,2,3\n")  # row 3001: four values under three columns
    source = open_source(path, None)
    kinds = {"patient_id": "text", "age": "number"}
    columns = {name: name for name in kinds}
    with pytest.raises(InputFileError, match=r"malformed CSV at row 3001: Expected 3 columns"):
        list(read_chunks(source, columns, 100, kinds=kinds, fast=True))  # type: ignore[arg-type]
