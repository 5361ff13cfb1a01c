"""The `train_responder` / `train_relapse` stages: tune, fit, log, register, gate, export.
Only the training split is read: the gate and the champion are decided by cross-validation."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ketapredict import champion, describe, processes, tracking, train
from ketapredict.baseline import cross_validated_baseline, fit_baseline, save_baseline
from ketapredict.config import TrainParams
from ketapredict.contract import ID, OUTCOME, PROBABILITY, REGISTERED, Task
from ketapredict.datasets import NO_ORACLE, has_oracle
from ketapredict.features import SCHEMA, build_features, feature_names, raw_columns
from ketapredict.io import read_json, read_parquet, write_json
from ketapredict.layout import Layout
from ketapredict.model import KetaModel, fingerprint, load_model
from ketapredict.parallel import workers_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Split:
    X: pd.DataFrame
    y: np.ndarray
    w: np.ndarray
    rows: pd.DataFrame


def load_split(paths: Layout, task: Task, which: str) -> Split:
    table = read_parquet(paths.table(task))
    rows = table[table["split"] == which].reset_index(drop=True)
    X = build_features(rows, task)[feature_names(task)]
    return Split(X, rows["y"].to_numpy(dtype=float), rows["weight"].to_numpy(dtype=float), rows)


@dataclass(frozen=True)
class Fit:
    """What training produced from the training split alone (the test split is not read)."""

    tuning: train.Tuning
    model: KetaModel
    baseline: Pipeline
    train: Split
    cv: dict[str, float]  # LightGBM, cross-validated (out-of-fold, calibration cross-fitted)
    baseline_cv: dict[str, float]  # the logistic baseline on the same folds
    oracle_train: dict[str, float] | None  # the true risk on the same rows (None: no truth)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fit(paths: Layout, task: Task, params: TrainParams) -> Fit:
    """Tune and fit both models on the training split, and measure them by cross-validation."""
    tr = load_split(paths, task, "train")
    groups = tr.rows[ID].to_numpy()
    procedure = train.Procedure.of(params)
    candidates = train.draw_candidates(params.search, np.random.default_rng(params.seed))
    tuning, booster = train.fit_procedure(
        tr.X, tr.y, tr.w, groups, procedure, candidates=candidates,
        workers=workers_for(len(tr.y), len(candidates)),
    )  # fmt: skip
    model = train.package(booster, tr.X, tuning, task=task)
    model.meta["procedure"] = asdict(procedure)
    baseline = fit_baseline(tr.X, tr.y, tr.w)
    baseline_oof = cross_validated_baseline(tr.X, tr.y, tr.w, groups, procedure)
    return Fit(
        tuning=tuning,
        model=model,
        baseline=baseline,
        train=tr,
        cv=champion.scores(tr.y, tuning.oof_proba, tr.w),
        baseline_cv=champion.scores(tr.y, baseline_oof, tr.w),
        oracle_train=(
            champion.scores(tr.y, tr.rows["p_true"].to_numpy(float), tr.w)
            if has_oracle(tr.rows)
            else None
        ),
    )


def run(
    paths: Layout, task: Task, params: TrainParams, *, label: Mapping[str, Any]
) -> dict[str, Any]:
    """Fit, save, log to a new MLflow run, register, decide the champion and export it.
    `label`: the features keys defining the task's outcome (FeaturesParams.label)."""
    result = fit(paths, task, params)
    tuning, model = result.tuning, result.model
    data_hash = _sha256(paths.table(task))
    model.meta.update(
        params=tuning.params,
        task=task,
        label=_label(task, label),
        features_sha256=data_hash,
        trees=tuning.n_trees,
        leaves=int(tuning.params["num_leaves"]),
    )
    model.save(paths.trained_model(task))
    save_baseline(result.baseline, paths.trained(task))
    registered = _track(paths, task, result, params, label=label, data_hash=data_hash)
    decision = registered.decision
    report = {
        "cv": result.cv,
        "cv_baseline": result.baseline_cv,
        "cv_oracle": result.oracle_train if result.oracle_train else NO_ORACLE,
        "chosen": {
            **tuning.params,
            "n_trees": tuning.n_trees,
            "calibration": tuning.calibration["method"],
        },
        "rows": {"train": len(result.train.y)},
        "decided_on": decision.decided_on,
    }
    write_json({task: report}, paths.training_report(task))  # task-keyed: DVC shows both
    write_json(
        {
            "registered_model": REGISTERED[task],
            "version": registered.version,
            "run_id": registered.run_id,
            "model_id": registered.ids.model,
            "baseline_model_id": registered.ids.baseline,
            **decision.as_dict(),
            "exported": registered.exported,
        },
        paths.registry_record(task),
    )
    oracle = result.oracle_train
    log.info(
        "%s: cross-validated AUROC %.3f (%s); %s",
        task,
        result.cv["auroc"],
        f"oracle {oracle['auroc']:.3f} on the same rows" if oracle else NO_ORACLE,
        decision.reason,
    )
    return report


@dataclass(frozen=True)
class Registered:
    """What the MLflow side of training produced: the run, the version, the decision."""

    run_id: str
    version: str
    decision: champion.Decision
    exported: str | None  # the champion version copied to models/<task>, if any
    ids: ModelIds


@dataclass(frozen=True)
class ModelIds:
    """The MLflow logged models of a training run: metrics are logged against the one they
    measure (registry.json keeps them for the evaluate and explain stages)."""

    model: str
    baseline: str


def _track(
    paths: Layout,
    task: Task,
    result: Fit,
    params: TrainParams,
    *,
    label: Mapping[str, Any],
    data_hash: str,
) -> Registered:
    """Log the fit to a new run, register the model, apply the champion policy, export."""
    tuning, name = result.tuning, REGISTERED[task]
    stage_params = {"features": dict(label), "train": params.model_dump()}
    with tracking.start_run(
        root=paths.root,
        stage=f"train_{task}",
        params=stage_params,
        run_name=f"{task} · train",
        tags={"task": task},
    ) as run:
        rows = result.train.rows[raw_columns(task)]
        model_uri = tracking.log_ketapredict_model(
            paths.trained_model(task),
            input_example=input_example(paths, task, rows),
            signature_input=_signature_frame(rows),
            output_column=PROBABILITY[task],
            required=[f.name for f in SCHEMA[task] if f.required],
            name=f"{task}_lightgbm",
        )
        baseline_uri = tracking.log_sklearn_model(
            result.baseline,
            name=f"{task}_logistic_baseline",
            signature_input=result.train.X.head(50),
        )
        ids = ModelIds(tracking.model_id(model_uri), tracking.model_id(baseline_uri))
        _log_fit(task, result, ids)
        version = tracking.register(
            model_uri, name, tags={"task": task, "features_sha256": data_hash}
        )
        decision = _decide(name, version, result, params)
        tracking.tag_version(name, version, {tracking.DECISION_TAG: decision.reason})
        tracking.log_dict_artifact(decision.as_dict(), "champion_decision.json")
        tracking.set_tags(
            {
                "features_sha256": data_hash,
                "tuning_calibration": tuning.calibration["method"],
                "model_version": version,
                "champion": str(decision.crowned).lower(),
                "champion_reason": decision.reason,
            }
        )
        tracking.log_params({f"chosen.{k}": v for k, v in tuning.params.items()})
        tracking.log_params({"chosen.n_trees": tuning.n_trees})
        figures = describe.Trained(
            task, version, result.cv, result.baseline_cv, result.oracle_train,
            decision.reason, label=_label(task, label),
        )  # fmt: skip
        link = describe.run_link(run.info)
        tracking.describe_run(name=f"{task} · train · v{version}", text=describe.run_text(figures))
        tracking.describe(
            name, model=describe.model_text(task), version=version,
            text=describe.version_text(figures, link),
        )  # fmt: skip
        exported = _export(paths, task, tracking.champion_version(name))
    return Registered(run.info.run_id, version, decision, exported, ids)


def input_example(paths: Layout, task: Task, rows: pd.DataFrame) -> pd.DataFrame:
    """Five rows for the logged model's input example: the training rows' first five when they
    are the generator's; else five of the generator's patients (data/synthetic), so a user's
    rows never go to MLflow."""
    source = read_json(paths.features_summary).get("source", {}).get("source", "synthetic")
    if source == "synthetic":
        return rows.head(5)
    patients = read_parquet(paths.synthetic_table("patients"))
    outcomes = read_parquet(paths.synthetic_table("outcomes"))
    first = outcomes[outcomes["is_active"]].drop_duplicates(ID)
    if task == "relapse":
        first = first[first["relapse_event"].notna()]
    example = first.merge(patients.drop(columns=["trial"]), on=ID).head(5)[list(rows.columns)]
    for name in example.columns:
        if not pd.api.types.is_numeric_dtype(rows[name]):
            example[name] = example[name].astype(str)
        else:
            example[name] = example[name].astype(rows[name].dtype)
    return example.reset_index(drop=True)


def _log_fit(task: Task, result: Fit, ids: ModelIds) -> None:
    """The cross-validated scores (each against the model it measures; the oracle's, the
    reference, against LightGBM: the UI lists a metric without a model under every model),
    the features, the label and the tuning, to the open run."""
    tuning = result.tuning
    tracking.log_metrics({f"cv_{k}": v for k, v in result.cv.items()}, model_id=ids.model)
    tracking.log_metrics(
        {f"cv_baseline_{k}": v for k, v in result.baseline_cv.items()}, model_id=ids.baseline
    )
    if result.oracle_train:
        oracle = {f"cv_oracle_{k}": v for k, v in result.oracle_train.items()}
        tracking.log_metrics(oracle, model_id=ids.model)
    else:
        tracking.set_tags({"oracle": NO_ORACLE})
    tracking.log_dict_artifact(
        {"raw_inputs": raw_columns(task), "model_features": feature_names(task)},
        "features.json",
    )
    tracking.log_dict_artifact(result.model.meta["label"], "label.json")
    tracking.log_text_artifact(tuning.candidates.to_csv(index=False), "tuning/candidates.csv")
    tracking.log_dict_artifact(
        {"chosen": tuning.calibration["method"], "cv_brier": tuning.calibration_scores},
        "tuning/calibration.json",
    )


def _label(task: Task, label: Mapping[str, Any]) -> dict[str, Any]:
    """The outcome as the model records it (model.json, label.json)."""
    if task == "responder":
        return {"outcome": OUTCOME[task], **label["responder_label"]}
    return {"outcome": OUTCOME[task], "horizon_days": label["relapse_horizon_days"]}


def _signature_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Numeric inputs as float64 (missing values allowed), categories as strings."""
    return raw.apply(lambda c: c.astype(str) if c.dtype == object else c.astype(np.float64)).head(
        50
    )


def _decide(name: str, version: str, result: Fit, params: TrainParams) -> champion.Decision:
    """Apply the champion policy (ketapredict.champion) and move the alias if it says so."""
    current = tracking.champion_version(name)
    comparison = None
    if current is not None and not champion.gate_reasons(result.cv, params):
        processes.remove_stale(Path(tempfile.gettempdir()), "champion-")
        with tempfile.TemporaryDirectory(prefix=processes.temp_prefix("champion-")) as tmp:
            champ = load_model(tracking.download_version(name, current, Path(tmp) / "champion"))
        comparison = compare_with(result, champ)
    decision = champion.decide(result.cv, params, current=current, comparison=comparison)
    if decision.crowned:
        tracking.crown(name, version)
    return decision


def compare_with(result: Fit, current: KetaModel) -> champion.Comparison:
    """The candidate's out-of-fold predictions vs the champion's honest ones, same rows."""
    tr = result.train
    theirs = champion.honest_champion_predictions(
        fingerprint(tr.X), current.predict_matrix(tr.X), current.seen, current.seen_oof
    )
    return champion.compare(tr.y, tr.w, result.tuning.oof_proba, theirs)


def _export(paths: Layout, task: Task, champion_version: str | None) -> str | None:
    """Copy the champion (whichever version holds the alias) to models/<task>."""
    dest = paths.exported(task)
    if champion_version is None:
        where = dest.relative_to(paths.root)
        log.warning("%s: no champion yet; %s not updated", REGISTERED[task], where)
        return None
    tracking.download_version(REGISTERED[task], champion_version, dest)
    return champion_version
