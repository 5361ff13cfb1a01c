"""The study from params.yaml's `plan` section: its cells, the settings they share, the
fingerprint its stored results are filed under, and one run of it on Dask."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ketapredict.cohort.specs import Specs, load_specs
from ketapredict.config import Params, PlanParams
from ketapredict.errors import ConfigError
from ketapredict.layout import Layout
from ketapredict.plan import engine
from ketapredict.plan.benefit_cells import (
    BENEFIT_LEARNERS,
    make_benefit_reference,
    randomized,
    run_benefit_cell,
)
from ketapredict.plan.cells import POOLED, Cell, Reference, Settings, make_reference, run_cell

# `plan.grid: full`: the study a cluster would run. 13 log-spaced sizes from 100 to 6,400;
# 625 replicates, so that the Monte Carlo SE of every reported proportion is at most
# sqrt(0.25 / 625) = 0.02; a 200,000-patient reference sample per design and scenario.
FULL = {
    "sizes": [100, 141, 200, 283, 400, 566, 800, 1131, 1600, 2263, 3200, 4525, 6400],
    "replicates": 625,
    "population": 200_000,
}


@dataclass(frozen=True)
class Study:
    plan: PlanParams  # with the full grid's values if asked for
    settings: Settings
    mix: dict[str, int]  # the pooled design's proportions (generate.cohorts)
    specs: dict[str, Specs]  # per scenario
    fingerprint: str
    randomized: tuple[str, ...] = ()  # the designs with a concurrent comparator (benefit)

    @property
    def cells(self) -> list[Cell]:
        p = self.plan
        return [
            Cell(design, scenario, learner, n, r)
            for design in p.designs
            for scenario in p.scenarios
            for n in p.sizes
            for r in range(p.replicates)
            for learner in (*p.learners, *p.benefit_learners)
        ]

    def folder(self, paths: Layout) -> Path:
        """Where this study's cells are stored: a change of what a cell computes (seed,
        reference size, procedure, configs) files them elsewhere; a change of the grid only
        adds or leaves out cells."""
        return paths.plan_data / self.fingerprint


def make_study(paths: Layout, params: Params) -> Study:
    """The study, every name checked (one line each: what, where, how to fix)."""
    from ketapredict import train

    plan = params.plan
    if plan.grid == "full":
        plan = plan.model_copy(update=FULL)
    specs: dict[str, Specs] = {}
    for scenario in plan.scenarios:
        if not paths.scenario(scenario).is_file():
            known = sorted(p.stem for p in paths.scenarios.glob("*.yaml"))
            raise ConfigError(
                f"params.yaml: plan.scenarios: no scenario {scenario!r}; available: "
                f"{', '.join(known)}"
            )
        specs[scenario] = load_specs(paths, scenario)
    trials = next(iter(specs.values())).trials
    for design in plan.designs:
        if design != POOLED and design not in trials:
            raise ConfigError(
                f"params.yaml: plan.designs: unknown design {design!r}; use {POOLED!r} or one "
                f"of {', '.join(sorted(trials))}"
            )
    search = params.train.search.model_copy(update={"candidates": plan.lightgbm_candidates})
    settings = Settings(
        plan.seed, params.features.responder_label.threshold,
        params.generate.relapse_horizon_days, train.Procedure.of(params.train), search,
    )  # fmt: skip
    mix = dict(params.generate.cohorts)
    found: tuple[str, ...] = ()
    if plan.benefit_learners:
        found = tuple(randomized(next(iter(specs.values())), list(trials), settings))
        for design in plan.designs:
            if design != POOLED and design not in found:
                raise ConfigError(
                    f"params.yaml: plan.designs: {design!r} has no concurrent comparator, and "
                    f"plan.benefit_learners need one: use {POOLED!r} or one of {', '.join(found)}"
                )
    fingerprint = _fingerprint(paths, plan, settings, mix)
    return Study(plan, settings, mix, specs, fingerprint, found)


# The code a cell's result depends on: a change to any of it files results elsewhere.
CELL_CODE = ("cohort", "metrics", "benefit", "plan/cells.py", "plan/benefit_cells.py",
             "plan/study.py", "datasets.py", "features.py", "train.py", "baseline.py",
             "explain.py", "model.py")  # fmt: skip


def _code_hash() -> str:
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in CELL_CODE:
        path = package / name
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(f.relative_to(package).as_posix().encode() + f.read_bytes())
    return digest.hexdigest()


def _fingerprint(paths: Layout, plan: PlanParams, settings: Settings, mix: dict[str, int]) -> str:
    what = {
        "code": _code_hash(),
        "settings": {k: str(v) for k, v in asdict(settings).items()},
        "population": plan.population,
        "mix": mix,
        "configs": {
            str(p.relative_to(paths.root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(paths.configs.rglob("*.yaml"))
        },
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]


def run_study(
    paths: Layout,
    study: Study,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: engine.Progress | None = None,
) -> tuple[engine.Outcome, dict[tuple[str, str], dict[str, float]]]:
    """Compute what is missing; return the outcome and each reference's summary."""
    folder = study.folder(paths)
    summaries = {
        (d, s): _stored_reference(folder, d, s)
        for d in study.plan.designs
        for s in study.plan.scenarios
    }
    cells = study.cells
    missing = [c for c in cells if not (folder / f"{c.file}.parquet").exists()]
    if not missing and all(v is not None for v in summaries.values()):
        return engine.Outcome(stored=len(cells)), summaries  # type: ignore[return-value]
    p, wanted = study.plan, {_shared_key(c) for c in missing}
    with engine.client(scheduler, workers) as dask:
        refs: dict[tuple[str, ...], tuple[Any, ...]] = {}
        for (design, scenario), known in summaries.items():
            specs = dask.scatter(study.specs[scenario], broadcast=True)
            reference = dask.submit(
                make_reference, specs, design, p.population, study.mix, p.seed, study.settings,
                key=f"reference-{design}-{scenario}",
            )  # fmt: skip
            refs[(design, scenario, "responder")] = (specs, reference)
            if known is None:
                found = dask.submit(_summary, reference).result()
                _store_reference(folder, design, scenario, found)
                summaries[(design, scenario)] = found
            if (design, scenario, "benefit") in wanted:
                benefit = dask.submit(
                    make_benefit_reference, specs, design, p.population, study.mix,
                    list(study.randomized), p.seed, study.settings,
                    key=f"benefit-reference-{design}-{scenario}",
                )  # fmt: skip
                refs[(design, scenario, "benefit")] = (specs, benefit)
        outcome = engine.run_cells(
            dask, cells, _work(study), refs, folder, progress=progress, key=_shared_key
        )
    return outcome, summaries  # type: ignore[return-value]


def _work(study: Study):
    import functools

    return functools.partial(
        _cell, mix=study.mix, settings=study.settings, randomized=study.randomized
    )


def _shared_key(cell: Cell) -> tuple[str, str, str]:
    kind = "benefit" if cell.learner in BENEFIT_LEARNERS else "responder"
    return cell.design, cell.scenario, kind


def _cell(cell: Cell, specs: Specs, reference: Any, *, mix, settings, randomized) -> dict:
    """run_cell (or run_benefit_cell), with the seconds it took (the one column that differs
    between runs)."""
    import time

    started = time.perf_counter()
    if cell.learner in BENEFIT_LEARNERS:
        row = run_benefit_cell(cell, specs, reference, mix, list(randomized), settings)
    else:
        row = run_cell(cell, specs, reference, mix, settings)
    return {**row, "seconds": time.perf_counter() - started}


def _summary(reference: Reference) -> dict[str, float]:
    return {
        "oracle_auroc": reference.oracle_auroc,
        "r2_cs": reference.r2_cs,
        "prevalence": float(reference.y.mean()),
        "patients": len(reference.y),
        # the logistic learner's coefficients: one per model column, and a missing-value
        # indicator per column that has missing values (the pipeline's imputer adds them)
        "parameters": int(reference.X.shape[1] + reference.X.isna().any().sum()),
    }


def _reference_file(folder: Path, design: str, scenario: str) -> Path:
    return folder / "references" / f"{design}-{scenario}.json"


def _stored_reference(folder: Path, design: str, scenario: str) -> dict[str, float] | None:
    from ketapredict.io import read_json

    path = _reference_file(folder, design, scenario)
    return read_json(path) if path.exists() else None


def _store_reference(folder: Path, design: str, scenario: str, summary: dict) -> None:
    from ketapredict.io import write_json

    write_json(summary, _reference_file(folder, design, scenario))
