"""The README's performance table, from benchmarks/results/*.json: prints it, and writes it
between the README's `bench:start` and `bench:end` markers (the rest of the README is left as
it is). Run by `make bench` after the benchmarks; a benchmark without results is left out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
START, END = "<!-- bench:start (written by benchmarks/readme_table.py) -->", "<!-- bench:end -->"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"bench_{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _s(spread: dict[str, Any], unit: str = " s", fmt: str = "{:g}") -> str:
    """'1.3 s (1.2–1.4)': the median and the range."""
    low, high = (fmt.format(v) for v in spread["range"])
    return f"{fmt.format(spread['median'])}{unit} ({low}–{high})"


def _x(spread: dict[str, Any]) -> str:
    return _s(spread, "×", "{:.2f}")


def _rows_s(spread: dict[str, Any]) -> str:
    return f"{spread['median']:,.0f} rows/s"


def score_rows(result: dict[str, Any]) -> list[list[str]]:
    start, speed = result["startup"], result["throughput"]
    targets = result["targets"]
    runs = len(start["model_folder"]["wall_s"]["runs"])
    rows = []
    for key, what, target in (
        ("model_folder", "`score` start-up, whole process, `--model-uri models/responder`",
         f"≤ {targets['startup_folder_s']:g} s"),
        ("registry_cached", "`score` start-up, whole process, champion from the registry "
         "(cached copy, the usual case)", f"≤ {targets['startup_registry_s']:g} s"),
        ("registry_download", "`score` start-up, whole process, champion downloaded (cache "
         "emptied)", "—"),
    ):  # fmt: skip
        wall, cpu = _s(start[key]["wall_s"]), _s(start[key]["cpu_s"])
        rows.append(
            [f"{what}; 10-row Parquet, {runs} runs", f"{wall}, CPU {cpu}", "—", "—", target]
        )
    names = {
        "responder_parquet": ("responder, Parquet", "raw `Booster.predict`"),
        "responder_csv": ("responder, CSV", "raw `Booster.predict`"),
        "both_parquet": ("both tasks, Parquet", "raw `Booster.predict` of both"),
        "responder_explain3": ("responder, Parquet, `--explain 3`", "raw `pred_contrib=True`"),
        "both_explain3": ("both tasks, Parquet, `--explain 3`", "raw `pred_contrib=True`"),
    }
    for key, (what, raw) in names.items():
        if key not in speed:
            continue
        t = speed[key]
        target = f"≥ {targets['ratio_responder_parquet']:g}×" if key == "responder_parquet" else "—"
        rows.append([
            f"`score` throughput, {what}, {t['rows']:,} vs {2 * t['rows']:,} rows, "
            f"{len(t['ratio']['runs'])} runs",
            _rows_s(t["rows_per_s"]), f"{raw}: {_rows_s(t['raw_rows_per_s'])}",
            f"{_x(t['ratio'])}; CPU {_x(t['cpu_ratio'])}", target,
        ])  # fmt: skip
    memory = result.get("peak_memory_mb", {})
    if memory:
        shown = ", ".join(f"{k.replace('_rows_csv', '')} rows: {v} MB" for k, v in memory.items())
        rows.append(["`score` peak memory, CSV", shown, "—", "—", "< 1.5 GB, flat"])
    return rows


def generate_rows(result: dict[str, Any]) -> list[list[str]]:
    """The target is on the floor of the patients and visits tables alone, the stricter ratio:
    the truth and outcomes tables cost the floor (their many float columns) more than they
    cost the generator."""
    runs = len(result["ratio"]["runs"])
    targets = result["targets"]
    return [[
        f"generate {result['patients']:,} patients ({result['visits']:,} visits), written; "
        f"{runs} runs",
        f"{_s(result['generator_seconds'])}, CPU {_s(result['generator_cpu_seconds'])}, "
        f"peak {_s(result['peak_rss_gb'], ' GB')}",
        f"numpy + pyarrow floor, patients and visits tables: "
        f"{_s(result['floor_patients_visits_seconds'])}; all four tables "
        f"{_s(result['floor_seconds'])}, ratio {_x(result['ratio'])}",
        _x(result["ratio_to_patients_visits_floor"]),
        f"≤ {targets['ratio_to_patients_visits_floor']:g}×, < {targets['peak_rss_gb']:g} GB",
    ]]  # fmt: skip


def contention_rows(result: dict[str, Any]) -> list[list[str]]:
    runs = len(result["ratio"]["runs"])
    return [[
        f"two `train responder` at once vs one alone, {result['cores']} cores; {runs} runs",
        _s(result["two_concurrent_seconds"]),
        f"one alone: {_s(result['train_responder_alone_seconds'])}",
        _x(result["ratio"]), f"≤ {result['target_ratio']:g}×",
    ]]  # fmt: skip


def table() -> tuple[str, list[str]]:
    """The markdown block and the lines it was made from, per benchmark found."""
    rows, machines = [], []
    for name, make in (("score", score_rows), ("generate", generate_rows),
                       ("contention", contention_rows)):  # fmt: skip
        result = _load(name)
        if result is None:
            continue
        rows += make(result)
        m = result.get("machine", {})
        machines.append(
            f"`bench_{name}` on {m.get('date', '?')}, {m.get('cores', '?')} cores "
            f"({m.get('cpu', '?')}), load average {m.get('load_average_1min', '?')} at the start"
        )
    header = ["what", "measured: median (range)", "reference, same run", "ratio", "target"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    note = "Measured by `make bench`: " + "; ".join(machines) + "."
    return "\n".join([START, "", *lines, "", note, END]), lines


def main() -> None:
    block, lines = table()
    if len(lines) == 2:
        print("README.md left as it is: no score, generate or contention results")
        return
    print("\n".join(lines))
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        sys.exit(f"README.md has no {START} ... {END} block to write the table into")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    README.write_text(before + block + after, encoding="utf-8")
    print(f"README.md: performance table written ({len(lines) - 2} rows)")


if __name__ == "__main__":
    main()
