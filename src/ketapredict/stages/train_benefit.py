"""The `train_benefit` stage: every benefit learner cross-fitted and fitted on the training
split, one MLflow run each, the champion chosen without the truth or the test split.

Gate: a learner's cross-fitted estimates must predict each patient's observed contrast
(benefit.patients: the slope of contrast on estimate, its 95 % interval above 0). Choice:
among the learners the registry can serve (benefit.model) that pass, the one closest to the
observed contrasts (tau-risk). The truth-based cross-validated measures are reported beside,
never used to choose."""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ketapredict import describe, tracking, train
from ketapredict.benefit import explain
from ketapredict.benefit import measures as m
from ketapredict.benefit.data import INPUTS, benefit_data, input_matrix
from ketapredict.benefit.learners import LEARNERS, BenefitData, fit_learner
from ketapredict.benefit.model import BenefitModel, servable
from ketapredict.benefit.patients import bands, contrast_slope, per_patient, tau_risk
from ketapredict.benefit.persist import save_learner
from ketapredict.config import BenefitParams
from ketapredict.contract import BENEFIT, ID, REGISTERED, learner_model
from ketapredict.explain import Shap
from ketapredict.io import read_json, read_parquet, write_json, write_text
from ketapredict.layout import Layout
from ketapredict.parallel import map_ordered, workers_for
from ketapredict.plain_names import plain

log = logging.getLogger(__name__)
STAGE = "train_benefit"


def cross_fitted(
    data: BenefitData, people: pd.DataFrame, params: BenefitParams
) -> dict[str, np.ndarray]:
    """Each learner's estimate for each training patient from a fit without them (folds
    grouped by patient, stratified by response), at the patient's start-of-course inputs."""
    groups = data.groups
    cv = train.folds(data.y.astype(float), groups, n_folds=params.cv_folds, seed=params.seed)
    X = input_matrix(people)
    where = pd.Index(people[ID])
    jobs = [
        (name, data, fit_rows, X, where.get_indexer(np.unique(groups[held])), params.seed)
        for name in LEARNERS
        for fit_rows, held in cv
    ]
    results = map_ordered(
        _fit_and_predict,
        jobs,
        workers=workers_for(len(groups), len(jobs)),
        progress="benefit: cross-fitting learners × folds",
    )
    out = {name: np.full(len(people), np.nan) for name in LEARNERS}
    for (name, *_, held, _), estimate in zip(jobs, results, strict=True):
        out[name][held] = estimate
    return out


def _fit_and_predict(name, data, fit_rows, X, held, seed) -> np.ndarray:
    return fit_learner(name, data.take(fit_rows), seed=seed).effect(X[held])


def _fit(name, data, seed):
    return fit_learner(name, data, seed=seed)


def _explain(fitted: dict[str, Any], X: np.ndarray, seed: int, workers: int) -> dict[str, Shap]:
    """Each learner's SHAP values (benefit.explain) on one seeded sample of training patients."""
    patients, background = explain.sample(X, seed)
    jobs = [(fitted[name], patients, background, seed) for name in LEARNERS]
    return dict(
        zip(
            LEARNERS,
            map_ordered(_shap, jobs, workers=workers, progress="benefit: SHAP"),
            strict=True,
        )
    )


def _shap(fitted, patients, background, seed) -> Shap:
    return explain.shap_values(fitted, patients, background, seed=seed)


def cv_measures(people: pd.DataFrame, estimate: np.ndarray, constant: float) -> dict[str, float]:
    """Honest (observed contrast) and truth-based measures of cross-fitted estimates."""
    contrast, truth = people["contrast"].to_numpy(), people["benefit_true"].to_numpy()
    intercept, slope = m.calibration_for_benefit(estimate, truth)
    observed, low, high = contrast_slope(estimate, contrast)
    return {
        "contrast_slope": observed,
        "contrast_slope_low": low,
        "contrast_slope_high": high,
        "tau_risk": tau_risk(estimate, contrast),
        "tau_risk_gain": tau_risk(np.full(len(people), constant), contrast)
        - tau_risk(estimate, contrast),
        "pehe": m.pehe(estimate, truth),
        "spearman": m.benefit_spearman(estimate, truth),
        "c_for_benefit": m.c_for_benefit_true(estimate, truth),
        "calibration_intercept": intercept,
        "calibration_slope": slope,
    }


def run(paths: Layout, params: BenefitParams) -> dict[str, Any]:
    table = read_parquet(paths.table(BENEFIT))
    if table.empty:
        return skip(paths, read_json(paths.features_summary)[BENEFIT].get("skipped", "no rows"))
    rows = table[table["split"] == "train"].reset_index(drop=True)
    people, data = per_patient(rows), benefit_data(rows)
    estimates = cross_fitted(data, people, params)
    constant = float(np.mean(people["contrast"]))
    cv = {name: cv_measures(people, e, constant) for name, e in estimates.items()}
    finals = map_ordered(
        _fit,
        [(name, data, params.seed) for name in LEARNERS],
        workers=workers_for(len(rows), 2),
        progress="benefit: final fits",
    )
    fitted = dict(zip(LEARNERS, finals, strict=True))
    for name, learner in fitted.items():
        save_learner(learner, paths.trained(BENEFIT) / name)
    shaps = _explain(fitted, input_matrix(people), params.seed, workers_for(len(rows), 2))
    champion = _choose(cv)
    data_hash = hashlib.sha256(paths.table(BENEFIT).read_bytes()).hexdigest()
    record = _track(paths, params, cv, fitted, champion, people, estimates, data_hash, shaps)
    importance = {name: explain.importance(sv).to_dict() for name, sv in shaps.items()}
    write_json(importance, paths.trained(BENEFIT) / explain.IMPORTANCE_FILE)
    report = {"cv": cv, "constant_benefit": constant, "champion": champion, **record}
    write_json({BENEFIT: report}, paths.training_report(BENEFIT))
    log.info("benefit: champion %s; %s", champion, record["reason"])
    return report


def skip(paths: Layout, reason: str) -> dict[str, Any]:
    """No benefit models when the cohort makes no benefit table: the records say why, and
    models/benefit holds only that note (scoring then refuses the benefit task)."""
    log.warning("benefit: not trained (%s)", reason)
    report = {"skipped": reason, "champion": None}
    paths.trained(BENEFIT).mkdir(parents=True, exist_ok=True)
    write_json({**report, "version": None, "exported": None}, paths.registry_record(BENEFIT))
    write_json({BENEFIT: report}, paths.training_report(BENEFIT))
    _export(paths, None, f"not trained: {reason}")
    return report


def gate_reason(cv: dict[str, float]) -> str | None:
    """Why a learner fails the gate (None: it passes): its cross-validated estimates must
    predict the observed contrast, the slope's 95 % interval above 0."""
    low = cv["contrast_slope_low"]
    if not np.isfinite(low) or low <= 0:
        return (
            f"the observed contrast does not rise with its estimates (slope "
            f"{cv['contrast_slope']:.2f}, 95 % CI {low:.2f} to {cv['contrast_slope_high']:.2f})"
        )
    return None


def _choose(cv: dict[str, dict[str, float]]) -> str | None:
    """Among the servable learners that pass the gate, the one whose cross-validated
    estimates are closest to the observed contrasts (lowest tau-risk); None if none passes."""
    passing = [(v["tau_risk"], name) for name, v in cv.items() if name in servable()]
    passing = [(risk, name) for risk, name in passing if gate_reason(cv[name]) is None]
    return min(passing)[1] if passing else None


def _track(
    paths: Layout,
    params: BenefitParams,
    cv: dict[str, dict[str, float]],
    fitted: dict[str, Any],
    champion: str | None,
    people: pd.DataFrame,
    estimates: dict[str, np.ndarray],
    data_hash: str,
    shaps: dict[str, Shap],
) -> dict[str, Any]:
    """One run per learner (its cross-validated measures, a calibration-for-benefit figure,
    its SHAP beeswarm and importances);
    the best servable learner is logged as a model, registered, and crowned if it passed the
    gate. Returns the registry record (also written to the registry record file)."""
    from ketapredict import plots
    from ketapredict.benefit import pyfunc
    from ketapredict.plots.shap import plot_shap_beeswarm

    best = champion or _best_servable(cv)
    name, record = REGISTERED[BENEFIT], {"version": None, "run_id": None, "reason": ""}
    inputs, tag = people[[f.name for f in INPUTS]], {"features_sha256": data_hash}
    registered: dict[str, str] = {}
    stage_params = {"benefit": params.model_dump()}
    for learner in LEARNERS:
        with tracking.start_run(
            root=paths.root, stage=STAGE, params=stage_params,
            run_name=f"benefit · {learner}",
            tags={"task": BENEFIT, "learner": learner, "features_sha256": data_hash},
        ) as run:  # fmt: skip
            tracking.log_metrics({f"cv_{k}": v for k, v in cv[learner].items()})
            fig = plots.plot_benefit_calibration(
                estimates[learner], people["benefit_true"].to_numpy(),
                title=f"{learner}: cross-validated benefit vs the truth (training split)",
            )  # fmt: skip
            tracking.log_figure(fig, "cv/calibration_for_benefit.png")
            what = "predicted response on ketamine" if learner == "prognostic" else "benefit"
            title = f"{learner}: SHAP values of the estimated {what} (training patients)"
            named = replace(shaps[learner], features=[plain(f) for f in shaps[learner].features])
            tracking.log_figure(plot_shap_beeswarm(named, title=title), "shap/beeswarm.png")
            importance = explain.importance(shaps[learner])
            tracking.log_dict_artifact(importance.to_dict(), "shap/importance.json")
            registered[learner] = _register_learner(paths, learner, inputs, tag)
            if learner != best:
                continue
            model = BenefitModel.from_fitted(learner, fitted[learner], input_matrix(people))
            model.meta.update(features_sha256=data_hash, cv=cv[learner])
            model.meta["bands"] = bands(estimates[learner], people["contrast"].to_numpy())
            folder = paths.trained(BENEFIT) / "served"
            model.save(folder)
            entry = Path(pyfunc.__file__).with_name("pyfunc_model.py")
            uri = tracking.log_ketapredict_model(
                folder, input_example=inputs.head(5), signature_input=_signature(inputs),
                output_column=pyfunc.OUTPUT, entry=entry, name=f"benefit_{learner}",
            )  # fmt: skip
            version = tracking.register(uri, name, tags={"task": BENEFIT, "learner": learner})
            c = cv[learner]
            if champion is not None:
                tracking.crown(name, version)
                reason = (
                    f"champion: closest to the observed contrasts of the servable learners "
                    f"(tau-risk {c['tau_risk']:.4f}); observed contrast rises with its "
                    f"estimates (slope {c['contrast_slope']:.2f}, 95 % CI "
                    f"{c['contrast_slope_low']:.2f} to {c['contrast_slope_high']:.2f})"
                )
            else:
                reason = f"not champion: {gate_reason(c)}"
            tracking.tag_version(name, version, {tracking.DECISION_TAG: reason})
            tracking.set_tags(
                {"model_version": version, "champion": str(champion is not None).lower()}
            )
            text = describe.benefit_text(learner, version, c, reason, describe.run_link(run.info))
            tracking.describe_run(name=f"benefit · {learner} · v{version}", text=text)
            tracking.describe(name, model=describe.model_text(BENEFIT), version=version, text=text)
            record = {"version": version, "run_id": run.info.run_id, "reason": reason}
    current = tracking.champion_version(name) if record["run_id"] else None
    record["exported"] = _export(paths, current, record["reason"])
    record["learners"] = registered
    write_json(
        {"registered_model": name, "learner": best, **record}, paths.registry_record(BENEFIT)
    )
    return record


def _register_learner(paths: Layout, learner: str, inputs: pd.DataFrame, tags: dict) -> str:
    """Log the learner as saved (benefit.persist) as this run's `learner` model and register
    it as a version of its own family (contract.learner_model); return the version."""
    from ketapredict.benefit import pyfunc

    entry = Path(pyfunc.__file__).with_name("learner_pyfunc_model.py")
    uri = tracking.log_ketapredict_model(
        paths.trained(BENEFIT) / learner, input_example=inputs.head(5),
        signature_input=_signature(inputs), output_column=pyfunc.OUTPUT, entry=entry,
        name="learner",
    )  # fmt: skip
    return tracking.register(uri, learner_model(learner), tags={**tags, "learner": learner})


def _best_servable(cv: dict[str, dict[str, float]]) -> str:
    return min((v["tau_risk"], name) for name, v in cv.items() if name in servable())[1]


def _signature(inputs: pd.DataFrame) -> pd.DataFrame:
    """Numeric inputs as float64 (missing values allowed), categories as strings."""
    return inputs.apply(
        lambda c: c.astype(str) if c.dtype == object else c.astype(np.float64)
    ).head(50)


NO_CHAMPION = "NO_CHAMPION.txt"


def _export(paths: Layout, version: str | None, reason: str) -> str | None:
    """Copy the champion (whichever version holds the alias) to models/benefit; with none,
    models/benefit holds only a note saying why (scoring then refuses the benefit task)."""
    dest = paths.exported(BENEFIT)
    if version is None:
        log.warning("%s: no champion; %s", REGISTERED[BENEFIT], reason)
        shutil.rmtree(dest, ignore_errors=True)
        write_text(f"No benefit champion: {reason}\n", dest / NO_CHAMPION)
        return None
    (dest / NO_CHAMPION).unlink(missing_ok=True)
    tracking.download_version(REGISTERED[BENEFIT], version, dest)
    return version
