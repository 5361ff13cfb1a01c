"""The `features` stage: cohort -> data/features/{responder,relapse}.parquet with the split."""

from __future__ import annotations

import logging

import pandas as pd

from ketapredict.benefit.data import benefit_table
from ketapredict.cohort.specs import read_effect_model
from ketapredict.config import FeaturesParams
from ketapredict.contract import BENEFIT, TASKS
from ketapredict.datasets import TaskTable, assign_split, relapse_table, responder_table
from ketapredict.features import check_no_leakage
from ketapredict.io import read_parquet, write_json, write_parquet
from ketapredict.layout import Layout

log = logging.getLogger(__name__)


def build(paths: Layout, params: FeaturesParams) -> dict[str, TaskTable]:
    """The responder, relapse and benefit tables, each with its split."""
    dictionary = pd.read_csv(paths.dictionary)
    for task in TASKS:
        check_no_leakage(task, dictionary)
    patients, visits, outcomes, truth = (
        read_parquet(paths.synthetic_table(name))
        for name in ("patients", "visits", "outcomes", "truth")
    )
    model = read_effect_model(paths.synthetic_model)
    label = params.responder_label
    tables = {
        "responder": responder_table(
            patients,
            visits,
            outcomes,
            truth,
            visit=label.visit,
            threshold=label.threshold,
            model=model,
        ),
        "relapse": relapse_table(
            patients, outcomes, truth, horizon_days=params.relapse_horizon_days, model=model
        ),
        BENEFIT: benefit_table(
            patients, visits, outcomes, truth, threshold=label.threshold, model=model
        ),
    }
    for table in tables.values():
        table.frame["split"] = assign_split(
            table.frame, test_fraction=params.test_fraction, seed=params.seed
        )
    return tables


def run(paths: Layout, params: FeaturesParams) -> dict[str, TaskTable]:
    tables = build(paths, params)
    summary = {}
    for task, table in tables.items():
        write_parquet(table.frame, paths.table(task))
        by_split = table.frame.groupby("split")["y"].agg(["size", "sum"])
        summary[task] = {
            **table.counts,
            **{f"{s}_rows": int(r["size"]) for s, r in by_split.iterrows()},
            **{f"{s}_events": int(r["sum"]) for s, r in by_split.iterrows()},
        }
        log.info("%s: %d rows, %d events", task, table.counts["rows"], table.counts["events"])
    summary["responder"]["label"] = params.responder_label.model_dump()
    summary["relapse"]["horizon_days"] = params.relapse_horizon_days
    summary[BENEFIT]["label"] = {"visit": "24h", "threshold": params.responder_label.threshold}
    write_json(summary, paths.features_summary)
    return tables
