"""Atomic writes: a failure mid-write leaves neither a partial file nor a temp file."""

from __future__ import annotations

import pandas as pd
import pytest

from ketapredict.errors import DataError
from ketapredict.io import atomic_path, parquet_parts, read_parquet, write_json, write_parquet


def test_failure_inside_the_block_leaves_nothing(tmp_path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_previous_version(tmp_path) -> None:
    target = tmp_path / "out.parquet"
    write_parquet(pd.DataFrame({"a": [1]}), target)
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("garbage")
        raise RuntimeError("interrupted")
    assert read_parquet(target)["a"].tolist() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_parquet_round_trip_and_metadata(tmp_path) -> None:
    frame = pd.DataFrame({"x": [1.0, None], "c": pd.Categorical(["a", "b"])})
    write_parquet(frame, tmp_path / "f.parquet", metadata={"seed": "3"})
    pd.testing.assert_frame_equal(read_parquet(tmp_path / "f.parquet"), frame)


def test_parts_make_one_file_as_if_written_whole(tmp_path) -> None:
    """Each part has only its own categories; the file reads back as the pooled frame."""
    parts = [
        pd.DataFrame({"x": [1.0, 2.0], "c": pd.Categorical(["b", "c"])}),
        pd.DataFrame({"x": [None], "c": pd.Categorical(["a"])}),
    ]
    with parquet_parts(tmp_path / "f.parquet", metadata={"seed": "3"}) as write:
        for part in parts:
            write(part)
    whole = pd.DataFrame({"x": [1.0, 2.0, None], "c": pd.Categorical(["b", "c", "a"])})
    pd.testing.assert_frame_equal(read_parquet(tmp_path / "f.parquet"), whole)
    assert whole["c"].cat.categories.tolist() == ["a", "b", "c"]


def test_a_failure_between_parts_leaves_nothing(tmp_path) -> None:
    with pytest.raises(RuntimeError), parquet_parts(tmp_path / "f.parquet") as write:
        write(pd.DataFrame({"x": [1.0]}))
        raise RuntimeError("interrupted")
    with pytest.raises(ValueError), parquet_parts(tmp_path / "f.parquet") as write:
        write(pd.DataFrame({"x": [1.0]}))
        write(pd.DataFrame({"y": [1.0]}))  # another schema
    assert list(tmp_path.iterdir()) == []


def test_reading_a_missing_or_broken_file_is_a_data_error(tmp_path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_parquet(tmp_path / "nope.parquet")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_parquet(tmp_path / "bad.parquet")


def test_json_is_sorted_and_rejects_nan(tmp_path) -> None:
    write_json({"b": 1, "a": 2}, tmp_path / "m.json")
    assert (tmp_path / "m.json").read_text().index('"a"') < (tmp_path / "m.json").read_text().index(
        '"b"'
    )
    with pytest.raises(ValueError):
        write_json({"a": float("nan")}, tmp_path / "n.json")
    assert not (tmp_path / "n.json").exists()


def test_a_device_or_folder_is_never_replaced(tmp_path) -> None:
    import os

    with pytest.raises(DataError, match="not a regular file"), atomic_path(os.devnull) as tmp:
        tmp.write_text("x")
    assert not os.path.isfile(os.devnull)
    with pytest.raises(DataError, match="not a regular file"), atomic_path(tmp_path) as tmp:
        tmp.write_text("x")
    assert tmp_path.is_dir()


def test_a_write_failure_is_one_line_with_the_reason(tmp_path) -> None:
    from ketapredict.io import write_errors

    target = tmp_path / "out.csv"
    with pytest.raises(DataError) as caught, write_errors(target):
        raise OSError(28, "No space left on device")
    assert str(caught.value) == (
        f"{target}: cannot be written (No space left on device); free some space or choose a "
        "folder you can write to"
    )
    long = "x" * 500
    with (
        pytest.raises(DataError, match=f"cannot be written \\({long}\\); free") as caught,
        write_errors(target),
    ):
        raise OSError(f"{long}\nmore detail")
    assert "more detail" not in str(caught.value)


def test_an_interrupt_just_after_the_temporary_file_is_made_leaves_nothing(
    tmp_path, monkeypatch
) -> None:
    """A signal (KeyboardInterrupt) may land between creating the temporary file and the
    block that cleans it up: the file is still removed."""
    import ketapredict.io as io_module

    real_close = io_module.os.close

    def interrupted(fd: int) -> None:
        real_close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(io_module.os, "close", interrupted)
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "out.csv"):
        pass
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
