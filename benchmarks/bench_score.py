"""`ketapredict score` against the physical limit: the raw LightGBM model on the same rows.

Targets: throughput, start-up excluded, >= 0.7x raw `Booster.predict`; with
`--explain 3` >= 0.7x raw `Booster.predict(pred_contrib=True)`; start-up to the first scored
row < 3 s; peak memory < 1.5 GB for 5,000,000 rows and flat as the input grows.

Inputs are rows resampled from data/features/ (run `make run` first); models are the exported
champions in models/. Throughput is N / (t(2N) - t(N)) of the real CLI, so start-up cancels
out; the raw figure is the best of three `Booster.predict` calls on the same N rows in memory.
The registry start-up uses a temporary copy of mlflow.db, so nothing is written to it."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
PIECE = 500_000
N = 2_000_000  # rows of the smaller run; large, so that a run's noise is small beside it
MEMORY_WRAPPER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def base_rows(task: str) -> pa.Table:
    from ketapredict.features import raw_columns

    table = pq.read_table(ROOT / "data" / "features" / f"{task}.parquet")
    return table.select(["patient_id", *raw_columns(task)])  # type: ignore[arg-type]


def write_input(base: pa.Table, n: int, path: Path, seed: int = 0) -> Path:
    """n rows drawn from `base`, unique patient ids, written piece by piece (bounded memory)."""
    rng = np.random.default_rng(seed)
    writer: pq.ParquetWriter | pcsv.CSVWriter | None = None
    for start in range(0, n, PIECE):
        size = min(PIECE, n - start)
        piece = base.take(rng.integers(0, base.num_rows, size))
        piece = piece.set_column(0, "patient_id", pa.array(np.arange(start, start + size) + 1))
        if writer is None:
            kind = pq.ParquetWriter if path.suffix == ".parquet" else pcsv.CSVWriter
            writer = kind(str(path), piece.schema)
        writer.write_table(piece)
    assert writer is not None
    writer.close()
    return path


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DVC_NO_ANALYTICS="1")
    env.pop("MLFLOW_TRACKING_URI", None)
    return {**env, **(extra or {})}


def score_cmd(path: Path, out: Path, *args: str, verbose: bool = False) -> list[str]:
    debug = ["-v"] if verbose else []
    return [sys.executable, "-m", "ketapredict", *debug, "score", str(path), "-o", str(out), *args]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], repeats: int = 3) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds (all cores) of a few runs of the CLI."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        start, used = time.perf_counter(), cpu_seconds()
        subprocess.run(command, cwd=ROOT, env=environment(), check=True, capture_output=True)
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, cpu_seconds() - used)
    return wall, cpu


def raw_predict(base: pa.Table, tasks: list[str], n: int, *, contrib: bool) -> tuple[float, float]:
    """Best wall-clock and CPU seconds of raw predictions (every task's booster) on n
    resampled rows already in memory."""
    from ketapredict.features import build_features
    from ketapredict.model import load_model

    rows = base.take(np.random.default_rng(0).integers(0, base.num_rows, n)).to_pandas()
    wall = cpu = 0.0
    for task in tasks:
        model = load_model(ROOT / "models" / task)
        X = build_features(rows, task)[model.features].to_numpy()
        model.booster.predict(X[:1000], pred_contrib=contrib)
        best = (float("inf"), float("inf"))
        for _ in range(3):
            start, used = time.perf_counter(), time.process_time()
            model.booster.predict(X, pred_contrib=contrib)
            best = min(best, (time.perf_counter() - start, time.process_time() - used))
        wall, cpu = wall + best[0], cpu + best[1]
    return wall, cpu


def throughput(tmp: Path, base: pa.Table, tasks: list[str], n: int, fmt: str, *args: str) -> dict:
    """N / (t(2N) - t(N)) for the CLI, so its start-up cancels out, against the raw model.
    cpu_ratio compares CPU seconds (all cores) instead: steadier on a shared machine."""
    models = [a for t in tasks for a in ("--model-uri", str(ROOT / "models" / t))]
    runs = {}
    for rows in (n, 2 * n):
        path = write_input(base, rows, tmp / f"in_{rows}.{fmt}")
        runs[rows] = timed(score_cmd(path, tmp / f"out.{fmt}", *models, *args))
        path.unlink()
    wall, cpu = runs[2 * n][0] - runs[n][0], runs[2 * n][1] - runs[n][1]
    raw_wall, raw_cpu = raw_predict(base, tasks, n, contrib="--explain" in args)
    return {
        "rows_per_s": round(n / wall),
        "raw_rows_per_s": round(n / raw_wall),
        "ratio": round(raw_wall / wall, 2),
        "cpu_ratio": round(raw_cpu / cpu, 2),
    }


def startup(tmp: Path, base: pa.Table, *args: str, env: dict[str, str] | None = None) -> float:
    """Seconds from launching the CLI to its first scored row (its debug log says when)."""
    path = write_input(base, 1, tmp / "one.csv")
    best = float("inf")
    for _ in range(3):
        launched = time.time()
        command = score_cmd(path, tmp / "one_out.csv", *args, verbose=True)
        done = subprocess.run(
            command, cwd=ROOT, env=environment(env), check=True, capture_output=True, text=True
        )
        stamp = re.search(r"first rows scored at ([0-9.]+)", done.stderr)
        assert stamp, done.stderr
        best = min(best, float(stamp.group(1)) - launched)
    return round(best, 2)


def peak_mb(path: Path, out: Path, *args: str) -> float:
    command = [sys.executable, "-c", MEMORY_WRAPPER, *score_cmd(path, out, *args)]
    done = subprocess.run(command, cwd=ROOT, env=environment(), check=True, capture_output=True)
    return round(int(done.stdout.strip()) / 1024)  # ru_maxrss is in KiB on Linux


def main() -> None:
    from ketapredict.model import load_model

    if not (ROOT / "models" / "relapse").exists():
        sys.exit("no models/: run `make run` first")
    meta = {t: load_model(ROOT / "models" / t).meta for t in ("responder", "relapse")}
    responder, relapse = base_rows("responder"), base_rows("relapse")
    local = ("--model-uri", str(ROOT / "models" / "responder"))
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        both = ["responder", "relapse"]
        explain = ("--explain", "3")
        result = {
            "benchmark": "score",
            "models": {
                t: {"trees": m.get("trees"), "leaves": m.get("leaves")} for t, m in meta.items()
            },
            "throughput": {
                "responder_parquet": throughput(tmp, responder, ["responder"], N, "parquet"),
                "responder_csv": throughput(tmp, responder, ["responder"], N, "csv"),
                "both_parquet": throughput(tmp, relapse, both, N // 2, "parquet"),
                "both_csv": throughput(tmp, relapse, both, N // 2, "csv"),
                "responder_explain3": throughput(
                    tmp, responder, ["responder"], N // 20, "parquet", *explain
                ),
                "both_explain3": throughput(tmp, relapse, both, N // 80, "parquet", *explain),
            },
        }
        shutil.copy(ROOT / "mlflow.db", tmp / "mlflow.db")
        registry = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}"}
        result["startup_to_first_row_s"] = {
            "model_folder": startup(tmp, responder, *local),
            "registry_champion": startup(tmp, responder, "--task", "responder", env=registry),
        }
        memory = {}
        for rows in (1_000_000, 5_000_000):
            path = write_input(responder, rows, tmp / f"mem_{rows}.csv")
            memory[f"{rows:,}_rows_csv"] = peak_mb(path, tmp / "mem_out.csv", *local)
            path.unlink()
        result["peak_memory_mb"] = memory
    result["targets"] = {"ratio": 0.7, "startup_s": 3.0, "peak_memory_mb_5M": 1536}
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
