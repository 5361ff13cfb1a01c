"""The generate stage at N patients (default 1,000,000) in the default design mix, against the
numpy + pyarrow floor measured in the same run: one random number drawn (numpy) for every value
of the tables the generator wrote (patients, visits, outcomes, truth), and those same tables
written again by pyarrow as the stage writes them (zstd Parquet), from memory. No generator can
make that many values and write those tables faster on one core; the ratio says how far above
it this one is. The stage uses every core (designs made, and tables written, by a thread per
core), the floor one: the stage's CPU seconds are reported beside its wall-clock seconds.

Each measurement runs in a process of its own (its peak memory is its own): a warm-up of each,
then REPEATS generator and floor pairs, alternating; medians and ranges are reported.
Targets: generator <= 4x the floor of the patients and visits tables (1 M x 25 columns and
about 10 M visit rows); peak memory < 3 GB."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from ketapredict.config import load_params
from ketapredict.io import PARQUET_COMPRESSION
from ketapredict.layout import Layout, find_root
from ketapredict.stages import generate as stage
from spread import machine, spread

TABLES = ("patients", "visits", "outcomes", "truth")
REPEATS = 5
PIECE = 1_000_000  # rows drawn and written at a time


def generate(patients: int, out: Path) -> dict[str, float]:
    """The stage itself, writing into `out`: its seconds."""
    root = find_root(Path(__file__).parent)
    params = load_params(root / "params.yaml").generate
    total = sum(params.cohorts.values())
    sizes = {k: max(1, round(v * patients / total)) for k, v in params.cohorts.items()}
    params = params.model_copy(update={"cohorts": sizes})
    paths = Layout(root)
    paths.synthetic, paths.truth_summary = out, out / "truth.json"
    start, cpu = time.perf_counter(), time.process_time()
    rows = stage.run(paths, params)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"seconds": seconds, "cpu_seconds": cpu, **{k: float(v) for k, v in rows.items()}}


def floor(tables: Path, out: Path) -> dict[str, float]:
    """The floor for the tables in `tables` (read into memory first, not timed): a uniform
    random number per value, then each table written to `out` as the stage writes it; its
    seconds, and those of the patients and visits tables alone."""
    read = {t: pq.read_table(tables / f"{t}.parquet") for t in TABLES}
    rng = np.random.default_rng(0)
    seconds = {}
    for name, table in read.items():
        start = time.perf_counter()
        for first in range(0, table.num_rows, PIECE):
            rng.random((min(PIECE, table.num_rows - first), table.num_columns))
        with pq.ParquetWriter(out / f"{name}.parquet", table.schema,
                              compression=PARQUET_COMPRESSION) as writer:  # fmt: skip
            for batch in table.to_batches(max_chunksize=PIECE):
                writer.write_batch(batch)
        seconds[name] = time.perf_counter() - start
    return {
        "seconds": sum(seconds.values()),
        "patients_visits": seconds["patients"] + seconds["visits"],
    }


def _child(args: argparse.Namespace) -> None:
    """One measurement, in this process: JSON with its seconds and peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        if args.one == "generator":
            result = generate(args.patients, Path(tmp))
            if args.keep:
                for t in TABLES:
                    (Path(tmp) / f"{t}.parquet").rename(Path(args.keep) / f"{t}.parquet")
        else:
            result = floor(Path(args.shapes), Path(tmp))
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps(result))


def _run(*args: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True,
                          text=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--one", choices=("generator", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--shapes", help=argparse.SUPPRESS)
    parser.add_argument("--keep", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _child(args)
        return
    measured = machine()
    with tempfile.TemporaryDirectory() as shapes:
        n = str(args.patients)
        rows = _run("--one", "generator", "--patients", n, "--keep", shapes)  # warm-up, shapes
        _run("--one", "floor", "--shapes", shapes)  # warm-up
        pairs = [
            (
                _run("--one", "generator", "--patients", n),
                _run("--one", "floor", "--shapes", shapes),
            )
            for _ in range(args.repeats)
        ]
    seconds = [g["seconds"] for g, _ in pairs]
    floors = [f["seconds"] for _, f in pairs]
    result = {
        "benchmark": "generate",
        "machine": measured,
        "patients": int(rows["patients"]),
        "visits": int(rows["visits"]),
        "generator_seconds": spread(seconds),
        # its CPU time, all threads (it makes designs and writes tables in one per core)
        "generator_cpu_seconds": spread([g["cpu_seconds"] for g, _ in pairs]),
        "floor_seconds": spread(floors),
        "ratio": spread([g / f for g, f in zip(seconds, floors, strict=True)]),
        # the floor of the patients and visits tables alone (the other two are 2 M rows more)
        "floor_patients_visits_seconds": spread([f["patients_visits"] for _, f in pairs]),
        "ratio_to_patients_visits_floor": spread(
            [g / f["patients_visits"] for g, (_, f) in zip(seconds, pairs, strict=True)]
        ),
        "peak_rss_gb": spread([g["peak_rss_gb"] for g, _ in pairs]),
        "targets": {"ratio_to_patients_visits_floor": 4, "peak_rss_gb": 3},
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
