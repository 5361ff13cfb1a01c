"""The `train_responder` / `train_relapse` stages: tune, fit, log, register, gate, export."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ketapredict import metrics, train
from ketapredict.config import Params, Paths, TrainParams
from ketapredict.features import Task, build_features, feature_names, raw_columns
from ketapredict.io import read_parquet, write_json
from ketapredict.model import fingerprint, load_model
from ketapredict.pyfunc import OUTPUT

log = logging.getLogger(__name__)
REGISTERED = {"responder": "ketapredict-responder", "relapse": "ketapredict-relapse"}


@dataclass(frozen=True)
class Split:
    X: pd.DataFrame
    y: np.ndarray
    w: np.ndarray
    rows: pd.DataFrame


def load_split(paths: Paths, task: Task, which: str) -> Split:
    table = read_parquet(paths.features / f"{task}.parquet")
    rows = table[table["split"] == which].reset_index(drop=True)
    X = build_features(rows, task)[feature_names(task)]
    return Split(X, rows["y"].to_numpy(dtype=float), rows["weight"].to_numpy(dtype=float), rows)


def scores(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> dict[str, float]:
    intercept, slope = metrics.calibration_intercept_slope(y, p, w)
    return {
        "auroc": float(metrics.auroc(y, p, w)),
        "auprc": float(metrics.auprc(y, p, w)),
        "brier": float(metrics.brier(y, p, w)),
        "log_loss": float(metrics.log_loss(y, p, w)),
        "calibration_intercept": float(intercept),
        "calibration_slope": float(slope),
    }


def gate_reasons(test: dict[str, float], params: TrainParams) -> list[str]:
    """Why a model fails the quality gate (empty: it passes)."""
    g, reasons = params.gate, []
    if test["auroc"] < g.min_auroc:
        reasons.append(f"test AUROC {test['auroc']:.3f} < {g.min_auroc}")
    if test["brier"] > g.max_brier:
        reasons.append(f"test Brier {test['brier']:.3f} > {g.max_brier}")
    low, high = g.calibration_slope
    if not low <= test["calibration_slope"] <= high:
        reasons.append(f"calibration slope {test['calibration_slope']:.2f} outside [{low}, {high}]")
    return reasons


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fit(paths: Paths, task: Task, params: TrainParams) -> dict[str, Any]:
    """Tune and fit both models on the training split; score them on the test split."""
    tr, te = load_split(paths, task, "train"), load_split(paths, task, "test")
    tuning = train.tune(tr.X, tr.y, tr.w, tr.rows["patient_id"].to_numpy(), params)
    model = train.fit_lightgbm(tr.X, tr.y, tr.w, tuning, task=task, seed=params.seed)
    baseline = train.fit_baseline(tr.X, tr.y, tr.w)
    oof = model.calibrate(tuning.oof)
    result = {
        "tuning": tuning,
        "model": model,
        "baseline": baseline,
        "train": tr,
        "test": te,
        "cv": scores(tr.y, oof, tr.w),
        "test_scores": scores(te.y, model.predict_matrix(te.X), te.w),
        "baseline_scores": scores(te.y, baseline.predict_proba(te.X)[:, 1], te.w),
        "oracle_scores": scores(te.y, te.rows["p_true"].to_numpy(), te.w),
    }
    return result


def run(paths: Paths, params: Params, task: Task) -> dict[str, Any]:
    from ketapredict import tracking

    result = fit(paths, task, params.train)
    tuning, model, test = result["tuning"], result["model"], result["test_scores"]
    out = paths.root / "data" / "train" / task
    data_hash = _sha256(paths.features / f"{task}.parquet")
    model.meta.update(
        params=tuning.params,
        task=task,
        label=_label(params, task),
        features_sha256=data_hash,
        trees=tuning.n_trees,
        leaves=int(tuning.params["num_leaves"]),
    )
    model.save(out / "lightgbm")
    train.save_baseline(result["baseline"], out)
    stage_params = {"features": params.features.model_dump(), "train": params.train.model_dump()}
    name = REGISTERED[task]
    with tracking.start_run(
        root=paths.root, stage=f"train_{task}", params=stage_params, tags={"task": task}
    ) as run:
        tracking.log_metrics({f"cv_{k}": v for k, v in result["cv"].items()})
        tracking.log_metrics({f"test_{k}": v for k, v in test.items()})
        tracking.log_metrics(
            {f"baseline_test_{k}": v for k, v in result["baseline_scores"].items()}
        )
        tracking.log_metrics({f"oracle_test_{k}": v for k, v in result["oracle_scores"].items()})
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
        example = result["test"].rows[raw_columns(task)].head(5)
        model_uri = tracking.log_ketapredict_model(
            out / "lightgbm",
            input_example=example,
            signature_input=_signature_frame(result["train"].rows[raw_columns(task)]),
            output_column=OUTPUT[task],
        )
        tracking.log_sklearn_model(
            result["baseline"], name="baseline", signature_input=result["test"].X
        )
        version = tracking.register(
            model_uri, name, tags={"task": task, "features_sha256": data_hash}
        )
        decision = _decide(name, version, result, params.train)
        tracking.tag_version(name, version, {"champion_decision": decision["reason"]})
        tracking.log_dict_artifact(decision, "champion_decision.json")
        import mlflow

        mlflow.set_tags(
            {
                "features_sha256": data_hash,
                "tuning_calibration": tuning.calibration["method"],
                "model_version": version,
                "champion": str(decision["crowned"]).lower(),
                "champion_reason": decision["reason"],
            }
        )
        for key, value in tuning.params.items():
            mlflow.log_param(f"chosen.{key}", value)
        mlflow.log_param("chosen.n_trees", tuning.n_trees)
        champion = tracking.champion_version(name)
        exported = _export(paths, task, name, champion)
        run_id = run.info.run_id
    report = {
        "cv": result["cv"],
        "test": test,
        "baseline_test": result["baseline_scores"],
        "oracle_test": result["oracle_scores"],
        "chosen": {
            **tuning.params,
            "n_trees": tuning.n_trees,
            "calibration": tuning.calibration["method"],
        },
        "rows": {"train": len(result["train"].y), "test": len(result["test"].y)},
    }
    write_json(report, paths.reports / "train" / f"{task}.json")
    write_json(
        {
            "registered_model": name,
            "version": version,
            "run_id": run_id,
            **decision,
            "exported": exported,
        },
        out / "registry.json",
    )
    log.info(
        "%s: test AUROC %.3f (oracle %.3f); %s",
        task,
        test["auroc"],
        result["oracle_scores"]["auroc"],
        decision["reason"],
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


MIN_UNSEEN = 100


def _decide(name: str, version: str, result: dict[str, Any], params: TrainParams) -> dict[str, Any]:
    """Move the champion alias only if the gate passes and the current champion is not better
    on the same test data -- the test patients neither model trained on (a champion trained on
    another cohort from the same seed has seen some of them); otherwise record why."""
    from ketapredict import tracking

    test = result["test_scores"]
    reasons = gate_reasons(test, params)
    current = tracking.champion_version(name)
    compared: dict[str, Any] = {}
    if not reasons and current is not None:
        with tempfile.TemporaryDirectory() as tmp:
            champ = load_model(tracking.download_version(name, current, Path(tmp) / "champion"))
        compared = _compare(result, champ)
        if compared["rows"] < MIN_UNSEEN:
            compared["note"] = "too few test patients unseen by the champion; gate alone decides"
        elif compared["auroc"] < compared["champion_auroc"] - params.gate.champion_tolerance:
            reasons.append(
                f"test AUROC {compared['auroc']:.4f} is worse than champion v{current}'s "
                f"{compared['champion_auroc']:.4f} on the same {compared['rows']} test patients"
            )
    crowned = not reasons
    if crowned:
        tracking.crown(name, version)
    reason = "passed the quality gate; champion"
    if not crowned:
        reason = "not champion: " + "; ".join(reasons)
    return {
        "crowned": crowned,
        "reason": reason,
        "previous_champion": current,
        "comparison": compared,
    }


def _compare(result: dict[str, Any], champion: Any) -> dict[str, Any]:
    te = result["test"]
    unseen = np.ones(len(te.y), dtype=bool)
    if champion.seen is not None:
        unseen = ~np.isin(fingerprint(te.X), champion.seen)
    if unseen.sum() == 0:
        return {"rows": 0}
    y, w, X = te.y[unseen], te.w[unseen], te.X[unseen]
    return {
        "rows": int(unseen.sum()),
        "auroc": float(metrics.auroc(y, result["model"].predict_matrix(X), w)),
        "champion_auroc": float(metrics.auroc(y, champion.predict_matrix(X), w)),
    }


def _export(paths: Paths, task: Task, name: str, champion: str | None) -> str | None:
    """Copy the champion (whichever version holds the alias) to models/<task>."""
    from ketapredict import tracking

    dest = paths.models / task
    if champion is None:
        log.warning("%s: no champion yet; models/%s not updated", name, task)
        return None
    tracking.download_version(name, champion, dest)
    return champion
