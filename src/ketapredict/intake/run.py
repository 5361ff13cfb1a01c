"""What the intake commands do with the project's files."""

from __future__ import annotations

from pathlib import Path

from ketapredict.cohort.scales import SCALES
from ketapredict.errors import ConfigError
from ketapredict.intake import export
from ketapredict.io import read_parquet
from ketapredict.layout import Layout


def example(
    paths: Layout,
    out: Path,
    *,
    flat: bool = False,
    parquet: bool = False,
    other_scale: str | None = None,
    share: float = 0.3,
) -> list[Path]:
    """The generated cohort without truth, as `out`/<table>.csv (or .parquet)."""
    if other_scale is not None and other_scale not in SCALES:
        raise ConfigError(f"--other-scale {other_scale!r}: use one of {', '.join(SCALES)}")
    if not 0 <= share <= 1:
        raise ConfigError(f"--share {share}: give a share between 0 and 1")
    patients, outcomes, visits = (
        read_parquet(paths.synthetic_table(n)) for n in ("patients", "outcomes", "visits")
    )
    if flat:
        tables = {
            "responder": export.flat_responder(read_parquet(paths.table("responder"))),
            "relapse": export.flat_relapse(patients, outcomes),
        }
        if other_scale is not None:
            tables = {
                name: export.rescale_flat(frame, other_scale, share, seed=i)
                for i, (name, frame) in enumerate(tables.items())
            }
    else:
        tables = export.three_tables(
            patients, outcomes, visits, other_scale=other_scale, share=share
        )
    return export.write(tables, out, fmt="parquet" if parquet else "csv")
