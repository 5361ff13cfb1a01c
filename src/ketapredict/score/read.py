"""Scoring input: sniff a CSV or Parquet file, stream it in chunks, read ahead in a thread."""

from __future__ import annotations

import csv
import os
import queue
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ketapredict.errors import InputFileError, first_line
from ketapredict.score.options import Format, file_format

T = TypeVar("T")
Kind = Literal["number", "category", "text"]
SNIFF_BYTES = 1 << 16
MIN_BLOCK = 1 << 16  # bytes: the least a CSV block holds
FIRST_CHUNK = 2_000
UTF8_FIX = "save it as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet) and rerun"


class TypedParseError(Exception):
    """The fast CSV parse met a value that is not a number; reread with the tolerant parser."""


@dataclass(frozen=True)
class Source:
    """An input file whose header has been read: its column names and its size for progress."""

    path: Path
    fmt: Format
    names: tuple[str, ...]
    rows: int  # exact for Parquet, estimated from the first rows for CSV
    row_bytes: float = 100.0
    schema: pa.Schema | None = None  # Parquet: the stored types

    def type_of(self, name: str) -> pa.DataType:
        """The type a column is read as: its Parquet type, or text for CSV."""
        return pa.string() if self.schema is None else self.schema.field(name).type


def open_source(path: Path, given: Format | None) -> Source:
    """Check the file can be read and read its header; clear errors for each way it cannot.
    The format is `given` (--input-format), else the extension's."""
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    if path.is_dir():
        raise InputFileError(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise InputFileError(f"{path}: cannot be read (permission denied)")
    fmt = file_format(path, given, option="--input-format")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: the file is empty (0 bytes); expected a header and rows")
    return _sniff_csv(path) if fmt == "csv" else _open_parquet(path)


def _sniff_csv(path: Path) -> Source:
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise InputFileError(
            f"{path}: looks UTF-16 encoded (or binary), not UTF-8 text; {UTF8_FIX}"
        )
    text = _decode(path, head, complete=len(head) < SNIFF_BYTES).removeprefix("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputFileError(f"{path}: the file is empty (only blank lines)")
    names = tuple(next(csv.reader([lines[0]])))
    if len(lines) == 1 and len(head) < SNIFF_BYTES:
        raise InputFileError(f"{path}: has a header but no rows; nothing to score")
    row_bytes = len(head.lstrip()) / max(len(lines), 1)
    size = path.stat().st_size
    return Source(path, "csv", names, round(size / row_bytes), row_bytes)


def _decode(path: Path, head: bytes, *, complete: bool) -> str:
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(head) - 3:  # a character cut by the sniff window
            return head[: exc.start].decode("utf-8")
        byte = head[exc.start]
        raise InputFileError(
            f"{path}: not valid UTF-8 (byte 0x{byte:02x} at offset {exc.start}; perhaps "
            f"latin-1 or Windows-1252); {UTF8_FIX}"
        ) from None


def _open_parquet(path: Path) -> Source:
    try:
        file = pq.ParquetFile(path)
        schema, rows = file.schema_arrow, file.metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(f"{path}: not a readable Parquet file ({first_line(exc)})") from None
    if rows == 0:
        raise InputFileError(f"{path}: has columns but no rows; nothing to score")
    return Source(path, "parquet", tuple(schema.names), rows, schema=schema)


def read_chunks(
    source: Source,
    columns: Mapping[str, str],
    chunk_rows: int,
    *,
    kinds: Mapping[str, Kind],
    fast: bool,
) -> Iterator[pa.RecordBatch]:
    """Batches of about `chunk_rows` rows (a short first one, so scoring starts at once)
    holding `columns` (schema name -> name in the file), renamed to the schema names;
    categories come dictionary-encoded. With `fast`, CSV numbers are parsed straight to
    float64, and a value that is not a number raises TypedParseError (reread without `fast` to
    find its row)."""
    if source.fmt == "csv":
        types = {original: _csv_type(kinds[name], fast) for name, original in columns.items()}
        first = min(chunk_rows, FIRST_CHUNK)
        sizes = (int(first * source.row_bytes), int(chunk_rows * source.row_bytes))
        batches = _csv_batches(source, types, sizes)
    else:
        categories = [original for name, original in columns.items() if kinds[name] == "category"]
        batches = _parquet_batches(source, list(columns.values()), categories, chunk_rows)
    names = list(columns)
    for batch in _rechunk(batches, chunk_rows, first=min(chunk_rows, FIRST_CHUNK)):
        yield pa.RecordBatch.from_arrays(batch.columns, names=names)


def _rechunk(
    batches: Iterator[pa.RecordBatch], rows: int, *, first: int
) -> Iterator[pa.RecordBatch]:
    """Chunks of `first` rows, then of `rows` / 2 to 3 * `rows` / 2 rows (the last may be
    shorter). Batches are sliced without a copy; only pieces too small to stand alone are
    joined (copied), so a CSV block the size of a chunk goes through whole."""
    pending: list[pa.RecordBatch] = []
    have, want = 0, first
    for batch in batches:
        pending.append(batch)
        have += batch.num_rows
        while have >= (want if want < rows else max(rows // 2, 1)):
            whole = pending[0] if len(pending) == 1 else _combined(pending)
            cut = want if whole.num_rows > want * 3 // 2 else whole.num_rows
            yield whole.slice(0, cut)
            rest, want = whole.slice(cut), rows
            pending, have = ([rest] if rest.num_rows else []), rest.num_rows
    if have:
        yield pending[0] if len(pending) == 1 else _combined(pending)


def _combined(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """One batch (contiguous columns, dictionaries unified) from several."""
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


def _parquet_batches(
    source: Source, columns: list[str], categories: list[str], chunk_rows: int
) -> Iterator[pa.RecordBatch]:
    try:
        file = pq.ParquetFile(source.path, read_dictionary=categories)
        # decoded in the reading thread: Arrow's own threads would take cores from the trees,
        # and cost more CPU for the same work (0.35 s against 0.19 s per million rows)
        yield from file.iter_batches(batch_size=chunk_rows, columns=columns, use_threads=False)
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(f"{source.path}: unreadable Parquet ({first_line(exc)})") from None


def _csv_batches(
    source: Source, types: dict[str, pa.DataType], sizes: tuple[int, int]
) -> Iterator[pa.RecordBatch]:
    """The file as blocks of whole rows of about `sizes` bytes (the first, then each other),
    each parsed on its own in the calling thread into one batch. Arrow's streaming reader
    would read up to 32 blocks ahead (memory grows with the block size) and cut batches at
    its block size, to be joined again into chunks (a copy)."""
    convert = pcsv.ConvertOptions(
        column_types=types,
        include_columns=list(types),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    parse = pcsv.ParseOptions(newlines_in_values=True)  # a quoted value may span lines
    done = 0  # data rows in the blocks before this one
    for i, block in enumerate(_row_blocks(source.path, *sizes)):
        # one block, one batch; after the first block there is no header line
        names = {"column_names": list(source.names)} if i else {}
        read = pcsv.ReadOptions(use_threads=False, block_size=len(block) + 1, **names)
        data = pa.BufferReader(block)
        try:
            table = pcsv.read_csv(
                data, read_options=read, parse_options=parse, convert_options=convert
            )
        except pa.ArrowInvalid as exc:
            # Arrow counts rows from the block's first line, the header included
            raise _csv_error(source.path, exc, rows_before=done - (0 if i else 1)) from None
        done += table.num_rows
        yield from table.to_batches()


def _row_blocks(path: Path, first: int, size: int) -> Iterator[memoryview]:
    """The file in blocks that end at a row end: about `first` bytes, then `size` at a time
    (a row longer than a block makes that block longer). A row ends at a line end outside
    quotes: a quoted value may hold line breaks."""
    with path.open("rb") as fh:
        carry, want = b"", max(first, MIN_BLOCK)
        while True:
            block = bytearray(len(carry) + want)
            block[: len(carry)] = carry
            filled = len(carry) + fh.readinto(memoryview(block)[len(carry) :])
            if filled == len(carry):  # end of file
                if carry:
                    yield memoryview(carry)
                return
            end = _last_row_end(block, filled) if filled == len(block) else filled
            if end == 0:  # no row end yet: read on
                carry, want = bytes(block[:filled]), want * 2
                continue
            carry, want = bytes(block[end:filled]), max(size, MIN_BLOCK)
            yield memoryview(block)[:end]


def _last_row_end(block: bytearray, filled: int) -> int:
    """Just past the last line end of block[:filled] outside a quoted value (0: none). A block
    starts at a row start, outside quotes, so a line end is outside them exactly when an even
    number of quote characters comes before it (an escaped quote, "", counts two)."""
    end = block.rfind(b"\n", 0, filled)
    quotes = block.count(b'"', 0, end) if end >= 0 else 0
    while quotes % 2:  # inside a quoted value: try the line end before its last quote
        before = block.rfind(b"\n", 0, block.rfind(b'"', 0, end))
        quotes -= block.count(b'"', max(before, 0), end)
        end = before
    return end + 1


def _csv_type(kind: Kind, fast: bool) -> pa.DataType:
    if kind == "category":
        return pa.dictionary(pa.int32(), pa.string())
    return pa.float64() if kind == "number" and fast else pa.string()


def _csv_error(path: Path, exc: pa.ArrowInvalid, *, rows_before: int = 0) -> Exception:
    detail = first_line(exc)
    if "UTF8" in detail or "UTF-8" in detail:
        return InputFileError(f"{path}: not valid UTF-8 text further down the file; {UTF8_FIX}")
    if "conversion error to double" in detail:
        return TypedParseError(detail)
    found = re.search(r"Row #(\d+): ", detail)
    if found:  # the row in the file (1 = first row under the header), not in Arrow's block
        row = rows_before + int(found[1])
        detail = f"row {row}: " + detail[found.end() :].removeprefix("CSV parse error: ")
        return InputFileError(f"{path}: malformed CSV at {detail}")
    return InputFileError(f"{path}: malformed CSV ({detail})")


def prefetched(items: Iterator[T], *, depth: int = 2) -> Iterator[T]:
    """`items`, produced by a background thread up to `depth` ahead, so that reading and
    checking the next chunk overlaps with scoring this one (Arrow, NumPy and LightGBM release
    the GIL). Errors reach the consumer; stopping early stops the producer."""
    slots: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((False, exc))

    worker = threading.Thread(target=produce, name="ketapredict-read", daemon=True)
    worker.start()
    try:
        while True:
            more, item = slots.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=10)


def as_text(column: pa.Array) -> pa.Array:
    """Values as strings, for messages and rejects (a type that has none: its type name)."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([str(column.type)] * len(column), pa.string())
