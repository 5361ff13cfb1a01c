"""Checks that the frames handed to the plot functions have the columns they draw."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ketapredict.errors import DataError


def require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """DataError naming the missing columns, so a bad frame fails before any drawing."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what} lacks column(s) {missing}; it has {list(frame.columns)}")


def require_curves(curves: Mapping[str, pd.DataFrame], columns: Sequence[str], what: str) -> None:
    """As `require`, for every curve of a {name: frame} mapping, which must not be empty."""
    if not curves:
        raise DataError(f"{what} got no curves to draw")
    for name, frame in curves.items():
        require(frame, columns, f"{what} curve {name!r}")
