"""`ketapredict score` against its references, measured in the same run.

Start-up, the whole process (launch to exit) on a 10-row Parquet file: with a model folder
(`--model-uri models/responder`), with the registry's champion cached beside the registry (the
usual case), and with the cache emptied before each run (a download); medians of REPEATS
runs after a warm-up, wall and CPU seconds. Targets: folder <= 2 s, registry <= 3 s.

Throughput against the physical limit, the raw LightGBM model on the same rows: N / (t(2N) -
t(N)) of the real CLI, so start-up cancels out, against `Booster.predict` on the same N rows in
memory (all cores; with --explain, `pred_contrib=True`); REPEATS pairs for the responder on
Parquet (target >= 0.8x), fewer for the other inputs. Peak memory at 1 and 5 million rows
(target < 1.5 GB, flat).

Inputs are rows resampled from data/features/ (run `make run` first); models are the exported
champions in models/. The registry runs use a temporary copy of mlflow.db, so nothing is
written beside the project's."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from spread import machine, spread

ROOT = Path(__file__).resolve().parents[1]
PIECE = 500_000
N = 1_000_000  # rows of the smaller run; large, so that a run's noise is small beside it
REPEATS = 5
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


def score_cmd(path: Path, out: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "ketapredict", "score", str(path), "-o", str(out), *args]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall-clock and CPU seconds (all cores, child processes included) of one CLI run."""
    start, used = time.perf_counter(), cpu_seconds()
    subprocess.run(command, cwd=ROOT, env=environment(env), check=True, capture_output=True)
    return time.perf_counter() - start, cpu_seconds() - used


def startup(
    tmp: Path, base: pa.Table, *args: str, env: dict[str, str] | None = None,
    before: Callable[[], None] | None = None,
) -> dict[str, object]:  # fmt: skip
    """The whole process on a 10-row Parquet file: a warm-up, then REPEATS runs (`before`
    called before each, the warm-up included)."""
    path = write_input(base, 10, tmp / "ten.parquet")
    runs = []
    for _ in range(REPEATS + 1):
        if before is not None:
            before()
        runs.append(timed(score_cmd(path, tmp / "ten_out.parquet", *args), env))
    walls, cpus = [w for w, _ in runs[1:]], [c for _, c in runs[1:]]
    return {"wall_s": spread(walls), "cpu_s": spread(cpus)}


def raw_predict(
    base: pa.Table, tasks: list[str], n: int, *, contrib: bool
) -> Callable[[], tuple[float, float]]:
    """A function timing raw predictions (every task's booster, all cores) on n resampled
    rows already in memory: wall-clock and CPU seconds."""
    from ketapredict.features import build_features
    from ketapredict.model import load_model

    rows = base.take(np.random.default_rng(0).integers(0, base.num_rows, n)).to_pandas()
    models = [load_model(ROOT / "models" / task) for task in tasks]
    matrices = [build_features(rows, m.task)[m.features].to_numpy() for m in models]
    for model, X in zip(models, matrices, strict=True):
        model.booster.predict(X[:1000], pred_contrib=contrib)  # warm-up

    def measure() -> tuple[float, float]:
        start, used = time.perf_counter(), time.process_time()
        for model, X in zip(models, matrices, strict=True):
            model.booster.predict(X, pred_contrib=contrib)
        return time.perf_counter() - start, time.process_time() - used

    return measure


def throughput(
    tmp: Path, base: pa.Table, tasks: list[str], n: int, fmt: str, *args: str, repeats: int
) -> dict[str, object]:
    """N / (t(2N) - t(N)) for the CLI, so its start-up cancels out, against the raw model on
    the same N rows, measured in turn `repeats` times after a warm-up. cpu_ratio compares CPU
    seconds (all cores) instead: steadier on a shared machine."""
    models = [a for t in tasks for a in ("--model-uri", str(ROOT / "models" / t))]
    paths = {rows: write_input(base, rows, tmp / f"in_{rows}.{fmt}") for rows in (n, 2 * n)}
    commands = {
        rows: score_cmd(path, tmp / f"out.{fmt}", *models, *args) for rows, path in paths.items()
    }
    raw = raw_predict(base, tasks, n, contrib="--explain" in args)
    timed(commands[n])  # warm-up
    runs = []
    for _ in range(repeats):
        (one, one_cpu), (two, two_cpu) = timed(commands[n]), timed(commands[2 * n])
        raw_wall, raw_cpu = raw()
        runs.append((two - one, two_cpu - one_cpu, raw_wall, raw_cpu))
    for path in paths.values():
        path.unlink()
    return {
        "rows": n,
        "ratio": spread([r[2] / r[0] for r in runs]),
        "cpu_ratio": spread([r[3] / r[1] for r in runs]),
        "rows_per_s": spread([n / r[0] for r in runs], digits=-3),
        "raw_rows_per_s": spread([n / r[2] for r in runs], digits=-3),
    }


def peak_mb(path: Path, out: Path, *args: str) -> float:
    command = [sys.executable, "-c", MEMORY_WRAPPER, *score_cmd(path, out, *args)]
    done = subprocess.run(command, cwd=ROOT, env=environment(), check=True, capture_output=True)
    return round(int(done.stdout.strip()) / 1024)  # ru_maxrss is in KiB on Linux


def main() -> None:
    from ketapredict.model import load_model

    if not (ROOT / "models" / "relapse").exists() or not (ROOT / "mlflow.db").exists():
        sys.exit("no models/ or mlflow.db: run `make run` first")
    meta = {t: load_model(ROOT / "models" / t).meta for t in ("responder", "relapse")}
    responder, relapse = base_rows("responder"), base_rows("relapse")
    local = ("--model-uri", str(ROOT / "models" / "responder"))
    result: dict[str, object] = {"benchmark": "score", "machine": machine()}
    result["models"] = {
        t: {"trees": m.get("trees"), "leaves": m.get("leaves")} for t, m in meta.items()
    }
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        shutil.copy(ROOT / "mlflow.db", tmp / "mlflow.db")
        registry = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}"}
        cache = tmp / ".ketapredict-cache"
        champion = ("--task", "responder")
        result["startup"] = {
            "model_folder": startup(tmp, responder, *local),
            "registry_cached": startup(tmp, responder, *champion, env=registry),
            "registry_download": startup(tmp, responder, *champion, env=registry,
                                         before=lambda: shutil.rmtree(cache, ignore_errors=True)),
        }  # fmt: skip
        both, explain = ["responder", "relapse"], ("--explain", "3")
        one, resp = ["responder"], responder
        result["throughput"] = {
            "responder_parquet": throughput(tmp, resp, one, N, "parquet", repeats=REPEATS),
            "responder_csv": throughput(tmp, resp, one, N, "csv", repeats=3),
            "both_parquet": throughput(tmp, relapse, both, N // 2, "parquet", repeats=3),
            "responder_explain3": throughput(
                tmp, resp, one, N // 10, "parquet", *explain, repeats=3
            ),
            "both_explain3": throughput(
                tmp, relapse, both, N // 40, "parquet", *explain, repeats=3
            ),
        }
        memory = {}
        for rows in (1_000_000, 5_000_000):
            path = write_input(responder, rows, tmp / f"mem_{rows}.csv")
            memory[f"{rows:,}_rows_csv"] = peak_mb(path, tmp / "mem_out.csv", *local)
            path.unlink()
        result["peak_memory_mb"] = memory
    result["targets"] = {
        "startup_folder_s": 2.0,
        "startup_registry_s": 3.0,
        "ratio_responder_parquet": 0.8,
        "peak_memory_mb_5M": 1536,
    }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
