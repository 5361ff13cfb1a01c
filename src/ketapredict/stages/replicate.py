"""The `replicate` stage: preset trials vs their published figures -> reports/trials/*."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ketapredict.cohort.specs import load_specs
from ketapredict.config import ReplicateParams
from ketapredict.errors import SpecError
from ketapredict.io import read_json, write_json, write_text
from ketapredict.layout import Layout
from ketapredict.memory import require_patients
from ketapredict.parallel import init_worker
from ketapredict.progress import steps
from ketapredict.replicate.report import summary, to_html, to_markdown
from ketapredict.replicate.simulate import (
    World,
    population_values,
    record,
    replicate_pooled,
    replicate_trial,
)
from ketapredict.replicate.targets import PooledTarget
from ketapredict.validation import load_yaml, parse_model

log = logging.getLogger(__name__)
Record = dict[str, Any]


def load_pooled(path: Path, trials: set[str]) -> list[PooledTarget]:
    data = load_yaml(path, error=SpecError) or []
    if not isinstance(data, list):
        raise SpecError(f"{path}: expected a list of pooled figures")
    pooled = [
        parse_model(PooledTarget, item, source=f"{path}[{i}]", error=SpecError)
        for i, item in enumerate(data)
    ]
    for i, p in enumerate(pooled):
        for name in p.designs:
            if name not in trials:
                raise SpecError(f"{path}[{i}]: designs: undefined trial {name!r}")
    return pooled


def _trial_records(world: World, name: str, params: ReplicateParams) -> list[Record]:
    spec = world.trials[name]
    values = list(replicate_trial(world, name, replications=params.replications, seed=params.seed))
    pop = population_values(world, name, n=params.population_size, seed=params.seed)
    return [
        record(
            name, t, [v[t.label] for v in values], pop[t.label], kind="trial", n=spec.published_n
        )
        for t in spec.published
    ]


def _pooled_records(
    world: World, group: list[PooledTarget], params: ReplicateParams
) -> list[Record]:
    values, pops = replicate_pooled(
        world,
        group,
        replications=params.replications,
        seed=params.seed,
        population_n=params.population_size,
    )
    return [
        record(
            "pooled", p.target.model_copy(update={"label": p.label}), v, pop, kind="pooled", n=p.n
        )
        for p, v, pop in zip(group, values, pops, strict=True)
    ]


def simulate(world: World, pooled: list[PooledTarget], params: ReplicateParams) -> list[Record]:
    """Every record of the replication table, trials first, then the pooled figures. Units run
    in worker processes; each has its own seed, so the result does not depend on scheduling."""
    groups: dict[tuple[tuple[str, ...], int], list[PooledTarget]] = {}
    for p in pooled:
        groups.setdefault((tuple(p.designs), p.n), []).append(p)
    presets = [s.name for s in world.trials.values() if s.published]
    workers = max(1, min(len(os.sched_getaffinity(0)), 4))
    pool = ProcessPoolExecutor(workers, initializer=init_worker)
    with pool, steps("replicating trials and pooled figures", len(presets) + len(groups)) as done:
        futures = [pool.submit(_trial_records, world, name, params) for name in presets]
        futures += [pool.submit(_pooled_records, world, g, params) for g in groups.values()]
        records: list[Record] = []
        for future in futures:
            records += future.result()
            done()
    return records


def run(paths: Layout, params: ReplicateParams, scenario: str = "literature") -> list[Record]:
    """Replicate every preset under the effect model's `scenario`."""

    specs = load_specs(paths, scenario)
    require_patients(params.population_size, what="replicate.population_size")
    world = World(specs.population, specs.model, specs.trials)
    records = simulate(world, load_pooled(paths.pooled, set(specs.trials)), params)
    totals = summary(records)
    write_json({"records": records, "summary": totals}, paths.replication)
    options = {"replications": params.replications, "population_n": params.population_size}
    write_text(to_markdown(records, **options), paths.replication_md)
    write_text(to_html(records, **options), paths.replication_html)
    log_run(paths, params, scenario, source="this run of the replicate stage")
    log.info(
        "%d targets; %.0f%% of verified trial targets inside",
        len(records),
        100 * totals["share_inside_verified"],
    )
    return records


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def log_run(paths: Layout, params: ReplicateParams, scenario: str, *, source: str) -> None:
    """The replication's MLflow run: its summary as metrics, its reports as artifacts, tagged
    with the SHA-256 of replication.json (so a run of the same results is found again)."""
    from ketapredict import tracking

    totals = read_json(paths.replication)["summary"]
    with tracking.start_run(
        root=paths.root,
        stage="replicate",
        run_name="replication",
        params={"replicate": params.model_dump(), "generate.scenario": scenario},
        tags={"replication_sha256": _sha256(paths.replication), "replication_source": source},
    ):
        tracking.log_metrics(totals)
        for path in (paths.replication, paths.replication_md, paths.replication_html):
            tracking.log_file_artifact(path, "replication")


def ensure_logged(paths: Layout, params: ReplicateParams, scenario: str) -> bool:
    """Log the committed replication as a run when MLflow has none of these results: on a
    fresh clone DVC finds the replicate stage up to date (its reports are in git) and skips
    it, yet the replication belongs in MLflow beside the models. True if it logged one."""
    from ketapredict import tracking

    if not paths.replication.exists():
        return False
    if tracking.has_run(root=paths.root, tags={"replication_sha256": _sha256(paths.replication)}):
        return False
    log_run(paths, params, scenario, source="reports/trials as committed (stage up to date)")
    log.info("replication: logged the committed results to MLflow (the stage was up to date)")
    return True
