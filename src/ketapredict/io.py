"""File formats and atomic writes: every output appears whole or not at all."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ketapredict.errors import DataError, first_line
from ketapredict.processes import remove_stale, temp_prefix

PARQUET_COMPRESSION = "zstd"


@contextlib.contextmanager
def atomic_path(path: str | Path, *, error: type[DataError] = DataError) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds.
    A folder that cannot be written (read-only, full, not a folder) raises `error`."""
    target = Path(path)
    if target.exists() and not target.is_file():
        # renaming over a device (e.g. /dev/null) or a folder would replace it
        raise error(f"{target}: exists and is not a regular file; choose a file path")
    tmp: Path | None = None
    try:
        with write_errors(target, error):
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_stale(target.parent, f".{target.name}.")  # left by a killed run
            prefix = temp_prefix(f".{target.name}.")
            # the name is ours before the file exists: an interrupt (SIGINT, SIGTERM) at any
            # point after it is created finds it in `tmp`, and `finally` removes it
            for _ in range(100):
                tmp = target.parent / f"{prefix}{secrets.token_hex(6)}.tmp"
                try:
                    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                    break
                except FileExistsError:
                    tmp = None  # another's file: not ours to remove
            else:
                raise FileExistsError(errno.EEXIST, "no free temporary name", str(target))
        yield tmp
        with write_errors(target, error):
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def write_errors(target: Path, error: type[DataError] = DataError) -> Iterator[None]:
    """An OSError while writing `target` (disk full, read-only, no such folder) as one line."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or first_line(exc, limit=sys.maxsize)
        raise error(
            f"{target}: cannot be written ({reason}); free some space or choose a folder you "
            "can write to"
        ) from None


def write_parquet(
    frame: pd.DataFrame, path: str | Path, *, metadata: Mapping[str, str] | None = None
) -> None:
    """Write a frame as Parquet atomically; same frame, same bytes."""
    table = _with_metadata(pa.Table.from_pandas(frame, preserve_index=False), metadata)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression=PARQUET_COMPRESSION)


@contextlib.contextmanager
def parquet_parts(
    path: str | Path, *, metadata: Mapping[str, str] | None = None
) -> Iterator[Callable[[pd.DataFrame], None]]:
    """Yield `write(frame)`, which appends a frame's rows to one Parquet file; the file appears
    whole when the block ends without error, or not at all. Every part takes the first one's
    schema; a categorical's categories are those of each part, so `read_parquet` sorts them."""
    with atomic_path(path) as tmp:
        writer: pq.ParquetWriter | None = None

        def write(frame: pd.DataFrame) -> None:
            nonlocal writer
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                table = _with_metadata(table, metadata)
                writer = pq.ParquetWriter(tmp, table.schema, compression=PARQUET_COMPRESSION)
            writer.write_table(table.cast(writer.schema))

        try:
            yield write
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise ValueError(f"{path}: no part was written")


def _with_metadata(table: pa.Table, metadata: Mapping[str, str] | None) -> pa.Table:
    if not metadata:
        return table
    merged = dict(table.schema.metadata or {})
    merged.update({k.encode(): v.encode() for k, v in metadata.items()})
    return table.replace_schema_metadata(merged)


def read_parquet(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a Parquet file, with a clear error if it is missing or unreadable. Unordered
    categoricals come back with their categories sorted, however the file was written."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found; run the stage that produces it (dvc repro)")
    try:
        frame = pq.read_table(path, columns=columns).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from exc
    for name, column in frame.items():
        if isinstance(column.dtype, pd.CategoricalDtype) and not column.cat.ordered:
            categories = column.cat.categories
            if not categories.is_monotonic_increasing:
                frame[name] = column.cat.reorder_categories(categories.sort_values())
    return frame


def write_json(data: Any, path: str | Path) -> None:
    """Write JSON atomically with sorted keys, so reruns give identical bytes."""
    text = json.dumps(data, indent=2, sort_keys=True, allow_nan=False, default=_json_default)
    write_text(text + "\n", path)


def json_safe(value: Any) -> Any:
    """`value` with every non-finite float (NaN, inf) as None and numpy scalars plain: what
    write_json accepts (it refuses NaN rather than write JSON other readers reject)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    return value


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found; run the stage that produces it (dvc repro)")
    return json.loads(path.read_text(encoding="utf-8"))


def write_text(text: str, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(data: bytes, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
