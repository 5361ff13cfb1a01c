"""Scoring output: tables appended chunk by chunk, the rejects file, and what describes them."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ketapredict import RESEARCH_NOTICE, __version__
from ketapredict.contract import BENEFIT, AnyTask
from ketapredict.errors import InputFileError, redact
from ketapredict.io import atomic_path, write_errors
from ketapredict.score.options import Format, Summary
from ketapredict.score.predict import BAND_CUTS
from ketapredict.score.read import as_text


class TableSink(Protocol):
    schema: pa.Schema

    def write(self, table: pa.Table) -> None: ...

    def write_later(
        self, make: Callable[[], pa.Table], then: Callable[[pa.Table], None]
    ) -> None: ...


@contextmanager
def output_writer(
    path: Path, fmt: Format, schema: pa.Schema, metadata: Mapping[str, Any]
) -> Iterator[TableSink]:
    """The scores file: a temporary file renamed to `path` when the block ends without error.
    Parquet carries `metadata` (see `describe`) in its schema."""
    meta = {"ketapredict": redact(json.dumps(metadata, default=str))}
    with (
        atomic_path(path, error=InputFileError) as tmp,
        table_writer(tmp, fmt, schema, metadata=meta, shown=path) as sink,
    ):
        yield sink


@contextmanager
def table_writer(
    path: Path,
    fmt: Format,
    schema: pa.Schema,
    *,
    metadata: Mapping[str, str] | None = None,
    shown: Path | None = None,
) -> Iterator[TableSink]:
    """A writer that appends tables of `schema` to `path` (a temporary file: the caller renames
    it to `shown`, the name errors give), closed when the block ends. Parquet carries
    `metadata` in its schema. Tables are written behind, in a thread of their own, so
    formatting one chunk overlaps with scoring the next. A failed write (disk full) is an
    InputFileError."""
    shown = shown or path
    with write_errors(shown, InputFileError):
        if fmt == "parquet":
            if metadata:
                schema = schema.with_metadata({k.encode(): v.encode() for k, v in metadata.items()})
            few = [f.name for f in schema if f.name.endswith(("_band", "ood_inputs", "_input"))]
            writer: pq.ParquetWriter | pcsv.CSVWriter = pq.ParquetWriter(
                path, schema, compression="zstd", use_dictionary=few
            )
        else:
            writer = pcsv.CSVWriter(path, schema)
    try:
        with _Behind(_Cast(writer, schema, shown)) as sink:
            yield sink
    finally:
        with write_errors(shown, InputFileError):
            writer.close()


class _Cast:
    """Give each table the writer's schema (metadata included) before writing it."""

    def __init__(
        self, writer: pq.ParquetWriter | pcsv.CSVWriter, schema: pa.Schema, shown: Path
    ) -> None:
        self.writer, self.schema, self.shown = writer, schema, shown

    def write(self, table: pa.Table) -> None:
        with write_errors(self.shown, InputFileError):
            self.writer.write_table(table.replace_schema_metadata(self.schema.metadata))


class _Behind:
    """Makes and writes tables in order in one background thread, at most DEPTH waiting. A
    failure there is raised by a later write or when the block ends; an error in the block
    cancels what is waiting and lets the running job finish before the file is closed."""

    DEPTH = 2

    def __init__(self, sink: _Cast) -> None:
        self.sink, self.schema = sink, sink.schema
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ketapredict-write")
        self.pending: deque[Future[None]] = deque()

    def write(self, table: pa.Table) -> None:
        self.write_later(lambda: table, lambda _: None)

    def write_later(self, make: Callable[[], pa.Table], then: Callable[[pa.Table], None]) -> None:
        """Make a table (in the writing thread), write it, then call `then` with it."""

        def job() -> None:
            table = make()
            self.sink.write(table)
            then(table)

        self.pending.append(self.pool.submit(job))
        while len(self.pending) > self.DEPTH:
            self.pending.popleft().result()

    def __enter__(self) -> _Behind:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            while kind is None and self.pending:
                self.pending.popleft().result()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


RejectsWriter = Callable[[pa.RecordBatch, int, np.ndarray, pa.Array], None]


@contextmanager
def rejects_writer(path: Path, key: str, inputs: list[str]) -> Iterator[RejectsWriter]:
    """Rejected rows as CSV, committed when the block ends: data row number (1 = first row
    under the header), the `key` column, every reason, then the inputs as they were read."""
    names = ["row", key, "reason", *inputs]
    schema = pa.schema([pa.field(n, pa.int64() if n == "row" else pa.string()) for n in names])

    def write(batch: pa.RecordBatch, first_row: int, invalid: np.ndarray, why: pa.Array) -> None:
        mask = pa.array(invalid)
        rows = pa.array(np.arange(first_row, first_row + batch.num_rows))
        values = [as_text(batch.column(c)) for c in (key, *inputs)]
        arrays = [rows, values[0], why, *values[1:]]
        sink.write(pa.Table.from_arrays([a.filter(mask) for a in arrays], schema=schema))

    with (
        atomic_path(path, error=InputFileError) as tmp,
        table_writer(tmp, "csv", schema, shown=path) as sink,
    ):
        yield write


def describe(
    *,
    input: Path,
    tasks: Sequence[AnyTask],
    models: Mapping[AnyTask, Mapping[str, Any]],
    explain: int,
) -> dict[str, Any]:
    """What the scores are and where they come from: stored in Parquet, and in the sidecar.
    (The benefit's own account is score.benefit.describe's.)"""
    low, high = BAND_CUTS
    out = {
        "notice": RESEARCH_NOTICE,
        "ketapredict_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": str(input),
        "tasks": list(tasks),
        "models": models,
        "risk_bands": {
            "low": f"p < {low:.4g}",
            "intermediate": f"{low:.4g} <= p < {high:.4g}",
            "high": f"p >= {high:.4g}",
        },
        "ood": "an input outside the model's training range (min-max), a category the model "
        "never saw in training, a drug and route never trained on together, or a dose outside "
        "the range trained on for its drug and route; ood_inputs names them",
        "duplicate_id": "the row's patient_id appeared in an earlier row of the input",
        "explain": explain,
        "logodds": "TreeSHAP contributions, log-odds; base + reasons + other = the model's "
        "log-odds before calibration",
    }
    if BENEFIT in tasks and len(tasks) == 1:  # no probability: no risk bands, no log-odds
        del out["risk_bands"], out["logodds"]
    return out


def sidecar_text(
    metadata: Mapping[str, Any], summary: Summary, *, output: Path, rejects: Path | None
) -> str:
    """OUTPUT.json beside a CSV output: the metadata, the files and the row counts."""
    rows = {"in": summary.rows_in, "scored": summary.rows_scored}
    rows.update(rejected=summary.rows_rejected, out_of_distribution=summary.rows_ood)
    rows["duplicate_id"] = summary.rows_duplicate
    data = {**metadata, "output": str(output), "rows": rows}
    if rejects is not None:
        data["rejects"] = str(rejects)
    return redact(json.dumps(data, indent=2, default=str)) + "\n"
