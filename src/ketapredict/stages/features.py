"""The `features` stage: cohort -> data/features/{responder,relapse}.parquet with the split."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ketapredict.benefit.data import benefit_table, no_benefit_table
from ketapredict.cohort.specs import read_effect_model
from ketapredict.config import DataParams, FeaturesParams
from ketapredict.contract import BENEFIT, TASKS
from ketapredict.datasets import TaskTable, assign_split, relapse_table, responder_table
from ketapredict.errors import DataError
from ketapredict.features import check_no_leakage
from ketapredict.io import read_parquet, write_json, write_parquet
from ketapredict.layout import Layout

log = logging.getLogger(__name__)
NO_TRUTH = "a user's cohort: the benefit learners are judged against the generator's truth"


def build(
    paths: Layout, params: FeaturesParams, data: DataParams | None = None
) -> tuple[dict[str, TaskTable], dict[str, Any]]:
    """The responder, relapse and benefit tables, each with its split (a user's cohort: the
    responder and relapse tables, no oracle), and where they came from."""
    dictionary = pd.read_csv(paths.dictionary)
    for task in TASKS:
        check_no_leakage(task, dictionary)
    source: dict[str, Any] = {"source": "synthetic"}
    if data is not None and data.source == "files":
        tables, own = _own(paths, params, data)
        source = {"source": "files", **own}
    else:
        tables = _synthetic(paths, params)
    for table in tables.values():
        if len(table.frame):
            table.frame["split"] = assign_split(
                table.frame, test_fraction=params.test_fraction, seed=params.seed
            )
    return tables, source


def _own(
    paths: Layout, params: FeaturesParams, data: DataParams
) -> tuple[dict[str, TaskTable], dict[str, Any]]:
    """The task tables of the cohort in data.folder, refused whole if any problem is found,
    and what identifies the cohort in the records: its content hash and counts, no row."""
    from ketapredict.intake.build import task_tables
    from ketapredict.intake.check import check
    from ketapredict.intake.files import content_hash

    folder = paths.root / data.folder
    report = check([folder], id_column=data.id_column)
    report.refuse(data.folder, data.folder)
    missing = [t for t in TASKS if report.shape == "flat" and t not in report.tables]
    if missing:
        raise DataError(
            f"{data.folder}: no {' or '.join(missing)} table; the pipeline trains both tasks, "
            "so the flat shape needs responder and relapse (ketapredict validate takes one)"
        )
    for note in report.notes:
        log.info("%s: %s", data.folder, note)
    own = {
        "folder": data.folder,
        "shape": report.shape.replace("_", " "),
        "sha256": content_hash(report.files),
        "rows": {name: len(frame) for name, frame in report.tables.items()},
        "notes": report.notes,
    }
    return {**task_tables(report, params), BENEFIT: no_benefit_table(NO_TRUTH)}, own


def _synthetic(paths: Layout, params: FeaturesParams) -> dict[str, TaskTable]:
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
    return tables


def run(
    paths: Layout, params: FeaturesParams, data: DataParams | None = None
) -> dict[str, TaskTable]:
    tables, source = build(paths, params, data)
    summary = {}
    for task, table in tables.items():
        write_parquet(table.frame, paths.table(task))
        if not len(table.frame):
            summary[task] = table.counts
            log.info("%s: no table (%s)", task, table.counts.get("skipped", "no rows"))
            continue
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
    summary["source"] = source
    write_json(summary, paths.features_summary)
    return tables
