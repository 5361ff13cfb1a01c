"""Scoring output: tables appended chunk by chunk to CSV or Parquet, and the rejects file."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ketapredict.io import atomic_path
from ketapredict.score_io import Format, as_text


class TableSink(Protocol):
    schema: pa.Schema

    def write(self, table: pa.Table) -> None: ...


@contextmanager
def table_writer(
    path: Path, fmt: Format, schema: pa.Schema, *, metadata: Mapping[str, str] | None = None
) -> Iterator[TableSink]:
    """A writer that appends tables of `schema` to `path` (a temporary file: the caller renames
    it), closed when the block ends. Parquet carries `metadata` in its schema."""
    if fmt == "parquet":
        if metadata:
            schema = schema.with_metadata({k.encode(): v.encode() for k, v in metadata.items()})
        few = [f.name for f in schema if f.name.endswith(("_band", "ood_inputs", "_input"))]
        with pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=few) as writer:
            yield _Cast(writer, schema)
    else:
        with pcsv.CSVWriter(path, schema) as writer:
            yield _Cast(writer, schema)


class _Cast:
    """Give each table the writer's schema (metadata included) before writing it."""

    def __init__(self, writer: pq.ParquetWriter | pcsv.CSVWriter, schema: pa.Schema) -> None:
        self.writer, self.schema = writer, schema

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table.replace_schema_metadata(self.schema.metadata))


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

    with atomic_path(path) as tmp, table_writer(tmp, "csv", schema) as sink:
        yield write
