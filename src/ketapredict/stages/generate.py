"""The `generate` stage: params + trial specs -> data/synthetic/*.parquet and the dictionary."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from ketapredict import __version__
from ketapredict.cohort.dictionary import data_dictionary
from ketapredict.cohort.effects_table import effects_table
from ketapredict.cohort.frames import COHORT_TABLES, Cohort
from ketapredict.cohort.generate import generate_parts, pool
from ketapredict.cohort.specs import Specs, load_specs
from ketapredict.cohort.truth_summary import TruthSummary
from ketapredict.config import GenerateParams
from ketapredict.errors import ConfigError
from ketapredict.io import parquet_parts, write_json, write_parquet, write_text
from ketapredict.layout import Layout
from ketapredict.memory import require_patients
from ketapredict.parallel import default_workers

log = logging.getLogger(__name__)


def _check(params: GenerateParams, specs: Specs) -> None:
    unknown = [name for name in params.cohorts if name not in specs.trials]
    if unknown:
        raise ConfigError(
            f"params.yaml: generate.cohorts.{unknown[0]}: no trial spec of that name; "
            f"available: {', '.join(specs.trials)}"
        )
    require_patients(sum(params.cohorts.values()), what="generate.cohorts (in all)")


def _parts(params: GenerateParams, specs: Specs) -> Iterator[Cohort]:
    _check(params, specs)
    return generate_parts(
        specs.trials,
        params.cohorts,
        specs.population,
        specs.model,
        seed=params.seed,
        horizon_days=params.relapse_horizon_days,
        workers=default_workers(),
    )


def build(params: GenerateParams, specs: Specs) -> Cohort:
    """The whole cohort in memory (the stage itself writes it design by design)."""
    return pool(_parts(params, specs))


def run(paths: Layout, params: GenerateParams) -> dict[str, int]:
    """Generate the cohort and write its tables, the effect model, the data dictionary and
    the truth summary; returns the rows written per table.

    Each design's part is appended to the tables, and added to the truth summary, by writer
    threads (pyarrow writes outside the GIL) while the next design is generated, so no table
    is ever held whole. One thread per core; a table always goes to the same thread, which
    keeps its parts in order."""
    specs = load_specs(paths, params.scenario)
    meta = {
        "ketapredict_version": __version__,
        "seed": str(params.seed),
        "scenario": params.scenario,
    }
    parts = _parts(params, specs)
    summary = TruthSummary()
    rows = dict.fromkeys(COHORT_TABLES, 0)
    with contextlib.ExitStack() as stack:
        writers = {
            name: stack.enter_context(parquet_parts(paths.synthetic_table(name), metadata=meta))
            for name in COHORT_TABLES
        }
        threads = [ThreadPoolExecutor(max_workers=1) for _ in range(default_workers())]
        for thread in threads:  # on an error: the writes not yet begun are dropped
            stack.callback(thread.shutdown, wait=True, cancel_futures=True)
        jobs = ("visits", "truth", "outcomes", "patients", "summary")  # largest first
        queue = {job: threads[i % len(threads)] for i, job in enumerate(jobs)}
        writes: list[Future[None]] = []
        for part in parts:
            for name in COHORT_TABLES:
                frame = getattr(part, name)
                rows[name] += len(frame)
                writes.append(queue[name].submit(writers[name], frame))
            writes.append(queue["summary"].submit(summary.add, part))
            for write in writes:  # a failed write stops the stage at once
                if write.done():
                    write.result()
        for write in writes:
            write.result()
    write_parquet(effects_table(specs.model), paths.synthetic_table("effects"), metadata=meta)
    write_text(specs.model.model_dump_json(indent=1) + "\n", paths.synthetic_model)
    write_text(data_dictionary(specs.population).to_csv(index=False), paths.dictionary)
    write_json({"scenario": params.scenario, **summary.figures()}, paths.truth_summary)
    log.info(
        "generated %d patients, %d visits from %d designs",
        rows["patients"],
        rows["visits"],
        len(params.cohorts),
    )
    return rows
