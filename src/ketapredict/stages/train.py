"""The `train_responder` / `train_relapse` stages: tune, fit, log, register, gate, export.
Only the training split is read: the gate and the champion are decided by cross-validation."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ketapredict import champion, processes, train
from ketapredict.config import Params, TrainParams
from ketapredict.contract import Task
from ketapredict.features import build_features, feature_names, raw_columns
from ketapredict.io import read_parquet, write_json
from ketapredict.layout import Layout
from ketapredict.model import KetaModel, fingerprint, load_model
from ketapredict.parallel import workers_for
from ketapredict.pyfunc import OUTPUT

log = logging.getLogger(__name__)
REGISTERED = {"responder": "ketapredict-responder", "relapse": "ketapredict-relapse"}


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
    oracle_train: dict[str, float]  # the true risk on the same rows, for scale


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fit(paths: Layout, task: Task, params: TrainParams) -> Fit:
    """Tune and fit both models on the training split, and measure them by cross-validation."""
    tr = load_split(paths, task, "train")
    groups = tr.rows["patient_id"].to_numpy()
    procedure = train.Procedure.of(params)
    candidates = train.draw_candidates(params.search, np.random.default_rng(params.seed))
    tuning, booster = train.fit_procedure(
        tr.X, tr.y, tr.w, groups, procedure, candidates=candidates,
        workers=workers_for(len(tr.y), len(candidates)),
    )  # fmt: skip
    model = train.package(booster, tr.X, tuning, task=task)
    model.meta["procedure"] = asdict(procedure)
    baseline = train.fit_baseline(tr.X, tr.y, tr.w)
    baseline_oof = train.cross_validated_baseline(tr.X, tr.y, tr.w, groups, procedure)
    return Fit(
        tuning=tuning,
        model=model,
        baseline=baseline,
        train=tr,
        cv=champion.scores(tr.y, tuning.oof_proba, tr.w),
        baseline_cv=champion.scores(tr.y, baseline_oof, tr.w),
        oracle_train=champion.scores(tr.y, tr.rows["p_true"].to_numpy(float), tr.w),
    )


def run(paths: Layout, params: Params, task: Task) -> dict[str, Any]:
    from ketapredict import tracking

    result = fit(paths, task, params.train)
    tuning, model = result.tuning, result.model
    out = paths.trained(task)
    data_hash = _sha256(paths.table(task))
    model.meta.update(
        params=tuning.params,
        task=task,
        label=_label(params, task),
        features_sha256=data_hash,
        trees=tuning.n_trees,
        leaves=int(tuning.params["num_leaves"]),
    )
    model.save(out / "lightgbm")
    train.save_baseline(result.baseline, out)
    stage_params = {"features": params.features.model_dump(), "train": params.train.model_dump()}
    name = REGISTERED[task]
    with tracking.start_run(
        root=paths.root, stage=f"train_{task}", params=stage_params, tags={"task": task}
    ) as run:
        tracking.log_metrics({f"cv_{k}": v for k, v in result.cv.items()})
        tracking.log_metrics({f"baseline_cv_{k}": v for k, v in result.baseline_cv.items()})
        tracking.log_metrics({f"oracle_train_{k}": v for k, v in result.oracle_train.items()})
        tracking.log_dict_artifact(
            {"raw_inputs": raw_columns(task), "model_features": feature_names(task)},
            "features.json",
        )
        tracking.log_dict_artifact(model.meta["label"], "label.json")
        tracking.log_text_artifact(tuning.candidates.to_csv(index=False), "tuning/candidates.csv")
        tracking.log_dict_artifact(
            {"chosen": tuning.calibration["method"], "cv_brier": tuning.calibration_scores},
            "tuning/calibration.json",
        )
        tracking.log_metrics(
            {f"calibration_cv_brier_{k}": v for k, v in tuning.calibration_scores.items()}
        )
        rows = result.train.rows[raw_columns(task)]
        model_uri = tracking.log_ketapredict_model(
            out / "lightgbm",
            input_example=rows.head(5),
            signature_input=_signature_frame(rows),
            output_column=OUTPUT[task],
        )
        tracking.log_sklearn_model(
            result.baseline, name="baseline", signature_input=result.train.X.head(50)
        )
        version = tracking.register(
            model_uri, name, tags={"task": task, "features_sha256": data_hash}
        )
        decision = _decide(name, version, result, params.train)
        tracking.tag_version(name, version, {"champion_decision": decision.reason})
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
        exported = _export(paths, task, name, tracking.champion_version(name))
        run_id = run.info.run_id
    report = {
        "cv": result.cv,
        "baseline_cv": result.baseline_cv,
        "oracle_train": result.oracle_train,
        "chosen": {
            **tuning.params,
            "n_trees": tuning.n_trees,
            "calibration": tuning.calibration["method"],
        },
        "rows": {"train": len(result.train.y)},
        "decided_on": decision.decided_on,
    }
    write_json(report, paths.training_report(task))
    write_json(
        {
            "registered_model": name,
            "version": version,
            "run_id": run_id,
            **decision.as_dict(),
            "exported": exported,
        },
        out / "registry.json",
    )
    log.info(
        "%s: cross-validated AUROC %.3f (oracle %.3f on the same rows); %s",
        task,
        result.cv["auroc"],
        result.oracle_train["auroc"],
        decision.reason,
    )
    return report


def _label(params: Params, task: Task) -> dict[str, Any]:
    if task == "responder":
        return {"outcome": "response", **params.features.responder_label.model_dump()}
    return {"outcome": "relapse", "horizon_days": params.features.relapse_horizon_days}


def _signature_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """Numeric inputs as float64 (missing values allowed), categories as strings."""
    return raw.apply(lambda c: c.astype(str) if c.dtype == object else c.astype(np.float64)).head(
        50
    )


def _decide(name: str, version: str, result: Fit, params: TrainParams) -> champion.Decision:
    """Apply the champion policy (ketapredict.champion) and move the alias if it says so."""
    from ketapredict import tracking

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


def _export(paths: Layout, task: Task, name: str, champion_version: str | None) -> str | None:
    """Copy the champion (whichever version holds the alias) to models/<task>."""
    from ketapredict import tracking

    dest = paths.exported(task)
    if champion_version is None:
        log.warning("%s: no champion yet; models/%s not updated", name, task)
        return None
    tracking.download_version(name, champion_version, dest)
    return champion_version
