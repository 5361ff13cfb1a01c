"""The `generate` stage: params + trial specs -> data/synthetic/*.parquet and the dictionary."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from ketapredict import __version__
from ketapredict.cohort.dictionary import data_dictionary
from ketapredict.cohort.effects_table import effects_table
from ketapredict.cohort.frames import COHORT_TABLES, Cohort
from ketapredict.cohort.generate import generate_cohort
from ketapredict.cohort.specs import Specs, load_specs
from ketapredict.cohort.truth_summary import summarize
from ketapredict.config import GenerateParams
from ketapredict.errors import ConfigError
from ketapredict.io import write_json, write_parquet, write_text
from ketapredict.layout import Layout
from ketapredict.memory import require_patients
from ketapredict.parallel import default_workers

log = logging.getLogger(__name__)


def build(params: GenerateParams, specs: Specs) -> Cohort:
    unknown = [name for name in params.cohorts if name not in specs.trials]
    if unknown:
        raise ConfigError(
            f"params.yaml: generate.cohorts.{unknown[0]}: no trial spec of that name; "
            f"available: {', '.join(specs.trials)}"
        )
    require_patients(sum(params.cohorts.values()), what="generate.cohorts (in all)")
    return generate_cohort(
        specs.trials,
        params.cohorts,
        specs.population,
        specs.model,
        seed=params.seed,
        horizon_days=params.relapse_horizon_days,
    )


def run(paths: Layout, params: GenerateParams) -> Cohort:
    specs = load_specs(paths, params.scenario)
    cohort = build(params, specs)
    meta = {
        "ketapredict_version": __version__,
        "seed": str(params.seed),
        "scenario": params.scenario,
    }
    tables = {name: getattr(cohort, name) for name in COHORT_TABLES}
    tables["effects"] = effects_table(specs.model)
    # pyarrow writes outside the GIL: the tables are written while the truth is summarized
    with ThreadPoolExecutor(max_workers=default_workers()) as pool:
        writes = [
            pool.submit(write_parquet, frame, paths.synthetic_table(name), metadata=meta)
            for name, frame in tables.items()
        ]
        summary = summarize(cohort)
        for write in writes:
            write.result()
    write_text(specs.model.model_dump_json(indent=1) + "\n", paths.synthetic_model)
    write_text(data_dictionary(specs.population).to_csv(index=False), paths.dictionary)
    write_json({"scenario": params.scenario, **summary}, paths.truth_summary)
    log.info(
        "generated %d patients, %d visits from %d designs",
        len(cohort.patients),
        len(cohort.visits),
        len(params.cohorts),
    )
    return cohort
