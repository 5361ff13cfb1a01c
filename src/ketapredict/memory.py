"""A guard before large allocations: estimate what a step needs, compare with what is free."""

from __future__ import annotations

import os
from pathlib import Path

from ketapredict.errors import ConfigError

# Peak memory per simulated patient with their visits and outcomes: measured 2.4-2.7 KB for
# replicate's population run and at most that for the generator (benchmarks: 1 M patients,
# 1.4 GB with two designs made at once); rounded up so that a run the guard lets through does
# not swap.
BYTES_PER_PATIENT = 3_000
GIB = 1 << 30


def available_memory() -> int:
    """Bytes the system can give this process without swapping (Linux MemAvailable; else the
    free pages; else no limit)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def require_patients(n: int, *, what: str, available: int | None = None) -> None:
    """Refuse, before allocating, to simulate `n` patients at once if they cannot fit in the
    memory available; the message says how many would."""
    free = available_memory() if available is None else available
    need = n * BYTES_PER_PATIENT
    if need > free:
        fits = free // BYTES_PER_PATIENT
        raise ConfigError(
            f"params.yaml: {what}: {n:,} patients need about {need / GIB:,.1f} GiB of memory and "
            f"{free / GIB:,.1f} GiB is available; at most about {fits:,} fit: lower it"
        )
