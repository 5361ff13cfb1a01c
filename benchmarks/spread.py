"""What every benchmark reports: medians and ranges of its runs, and the machine they ran on."""

from __future__ import annotations

import statistics


def spread(values: list[float], digits: int = 2) -> dict[str, object]:
    """The median, the range and every run, rounded."""
    return {
        "median": round(statistics.median(values), digits),
        "range": [round(min(values), digits), round(max(values), digits)],
        "runs": [round(v, digits) for v in values],
    }


def machine() -> dict[str, object]:
    """When and on what a benchmark ran: the date, the cores it may use, the CPU model and the
    load average when it started (other work on the machine moves wall-clock figures)."""
    import datetime
    import os

    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        model = names[0] if names else model
    except OSError:
        pass
    return {
        "date": datetime.date.today().isoformat(),
        "cores": len(os.sched_getaffinity(0)),
        "cpu": model,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
