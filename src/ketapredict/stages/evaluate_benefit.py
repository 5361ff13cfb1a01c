"""The `evaluate_benefit` stage: every benefit learner on the held-out patients against the true
individual benefit (reports/benefit/metrics.json, curves for `dvc plots`, figures), and the
prognostic-or-predictive labels of the champion learner scored against the truth's roles
(reports/benefit/roles.json); all logged to the MLflow runs of training."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ketapredict import tracking
from ketapredict.benefit import explain
from ketapredict.benefit import roles as r
from ketapredict.benefit.data import INPUTS, benefit_data, input_matrix
from ketapredict.benefit.evaluation import ORACLE, evaluate
from ketapredict.benefit.learners import LEARNERS, BenefitData, fit_learner
from ketapredict.benefit.model import BenefitModel
from ketapredict.benefit.patients import per_patient
from ketapredict.benefit.persist import load_learner
from ketapredict.cohort.specs import read_effect_model
from ketapredict.config import BenefitParams
from ketapredict.contract import BENEFIT
from ketapredict.features import BENEFIT_DESIGN, Feature, columns_of
from ketapredict.io import (
    json_safe,
    read_json,
    read_parquet,
    write_bytes,
    write_json,
    write_text,
)
from ketapredict.layout import Layout
from ketapredict.parallel import map_ordered, workers_for

log = logging.getLogger(__name__)
STAGE = "evaluate_benefit"
# Design columns: a learner may use them, but they are no patient characteristic to label.
DESIGN = tuple(f.name for f in BENEFIT_DESIGN)
ROLE_PATIENTS = 1000  # patients the importances are averaged over


def run(paths: Layout, params: BenefitParams) -> dict[str, Any]:
    registry = read_json(paths.registry_record(BENEFIT))
    if registry.get("skipped"):
        return _skipped(paths, registry["skipped"])
    table = read_parquet(paths.table(BENEFIT))
    rows = table[table["split"] == "test"].reset_index(drop=True)
    people = per_patient(rows)
    X = input_matrix(people)
    estimates = {n: load_learner(paths.trained(BENEFIT) / n).effect(X) for n in LEARNERS}
    best = registry["learner"]
    result = evaluate(
        people, rows, estimates, best=best, threshold=params.policy_threshold,
        seed=params.seed, resamples=params.bootstrap_resamples,
        workers=workers_for(len(rows), 2 * len(LEARNERS)),
    )  # fmt: skip
    roles = _roles(paths, table, best, params)
    summary = {
        "comparator": "the design's own (saline or midazolam)",
        "model_version": registry["version"],
        # the version holding the champion alias (None: no benefit model passed the gate)
        "champion_version": registry.get("exported"),
        "learner": best,
        "test_patients": len(people),
        "test_rows": len(rows),
        "learners": result.summary,
        "paired": result.paired,
        "roles": roles["score"],
        "top_predictive_share": {
            learner: v["top_predictive_share"] for learner, v in roles["learners"].items()
        },
    }
    write_json(json_safe(summary), paths.benefit_metrics)
    write_json(json_safe(roles), paths.benefit_roles)
    for name, frame in result.curves.items():  # one file per learner, as dvc plots reads
        for learner, curve in frame.groupby("learner", sort=False):
            text = curve.drop(columns="learner").to_csv(index=False)
            write_text(text, paths.benefit_plots / f"{name}_{learner}.csv")
    pngs = _figures(paths, result.curves)
    _log(paths, registry, summary, pngs)
    s = result.summary[best]
    log.info(
        "benefit (%s): Spearman %.2f, policy gain %.1f per 100 (oracle %.1f)",
        best, s["spearman"], s["policy_gain"], result.summary[ORACLE]["policy_gain"],
    )  # fmt: skip
    return summary


def _skipped(paths: Layout, reason: str) -> dict[str, Any]:
    """The stage's records when no benefit model was trained: the reason, in every output."""
    summary = {"skipped": reason}
    write_json(summary, paths.benefit_metrics)
    write_json(summary, paths.benefit_roles)
    for folder in (paths.benefit_plots, paths.benefit_figures):
        shutil.rmtree(folder, ignore_errors=True)
        write_text(f"No benefit evaluation: {reason}\n", folder / "SKIPPED.txt")
    log.warning("benefit: not evaluated (%s)", reason)
    return summary


def _roles(
    paths: Layout, table: pd.DataFrame, learner: str, params: BenefitParams
) -> dict[str, Any]:
    """Each characteristic's label from the champion learner (predictive) and a response
    model (prognostic) on the training split, with their permutation nulls (refits in
    processes, each seeded from its own number), and the score of the labels against the
    generator's roles at 24 h."""
    rows = table[table["split"] == "train"].reset_index(drop=True)
    people = per_patient(rows)
    X = input_matrix(people)
    # importances are means over patients: a seeded sample of them is enough, and TreeSHAP
    # costs about a millisecond a patient and booster
    X = X[np.sort(np.random.default_rng(params.seed).permutation(len(X))[:ROLE_PATIENTS])]
    data, trials = benefit_data(rows), rows["trial"].to_numpy()
    task = _RoleTask(learner, data, trials, X, params.seed, _aliased(data.X, trials))
    k = params.role_permutations
    seeds = np.random.SeedSequence([params.seed, 2]).spawn(2 * k)
    jobs = [(task, "predictive", None), (task, "prognostic", None)]
    jobs += [(task, "predictive", s) for s in seeds[:k]]
    jobs += [(task, "prognostic", s) for s in seeds[k:]]
    found = map_ordered(_importance, jobs, workers=workers_for(len(rows), len(jobs)))
    benefit_imp, response_imp = found[0], found[1]
    p_null = [float(v.max()) for v in found[2 : 2 + k]]
    q_null = [float(v.max()) for v in found[2 + k :]]
    p_cut, q_cut = (float(np.quantile(null, 0.95)) for null in (p_null, q_null))
    labels = r.label(benefit_imp, response_imp, p_cut, q_cut)
    # a characteristic constant within every design says nothing of its own: what it seems
    # to do is the designs' (their comparator, their own trial shift); as in explain's
    # aliased blocks, it is left out of the labels (and a category's level that is, e.g.
    # PTSD, which only Feder 2014 enrolled, out of its characteristic's importance)
    # (a characteristic varies within a design where any of its columns does)
    some = r.importance_by_input((~task.aliased)[None, :].astype(float), task.columns, task.inputs)
    varies = list(some.index[some > 0])
    labels = labels[labels.index.isin(varies)]
    truth = r.true_roles(read_effect_model(paths.synthetic_model), list(labels.index))
    return {
        "learner": learner,
        "thresholds": {"predictive": p_cut, "prognostic": q_cut},
        "constant_within_designs": [f.name for f in task.inputs if f.name not in varies],
        "characteristics": {
            name: {
                "label": labels[name],
                "true_role": truth[name],
                "benefit_importance": float(benefit_imp.get(name, 0.0)),
                "response_importance": float(response_imp[name]),
            }
            for name in labels.index
        },
        "score": r.score(labels, truth),
        "learners": _by_learner(paths, truth),
    }


def _by_learner(paths: Layout, truth: pd.Series) -> dict[str, Any]:
    """Each learner's SHAP importances (from training) beside the true roles, and the share
    of its top-k characteristics that truly modify the benefit (k: how many do)."""
    found = read_json(paths.trained(BENEFIT) / explain.IMPORTANCE_FILE)
    out = {}
    for learner, values in found.items():
        importance = pd.Series(values, dtype=float)
        out[learner] = {
            "top_predictive_share": explain.top_share(importance, truth),
            "top_prognostic_share": explain.top_share(importance, truth, "prognostic"),
            "importance": values,
        }
    return out


@dataclass(frozen=True)
class _RoleTask:
    learner: str
    data: BenefitData  # the training rows
    trials: np.ndarray  # each row's design
    X: np.ndarray  # the patients importances are read on
    seed: int
    aliased: np.ndarray  # per model column: constant within every design

    @property
    def inputs(self) -> list[Feature]:
        return [f for f in INPUTS if f.name not in DESIGN]

    @property
    def columns(self) -> list[str]:
        return columns_of(INPUTS)


def _importance(task: _RoleTask, kind: str, seed: np.random.SeedSequence | None) -> pd.Series:
    """One importance per characteristic: the benefit model's (`predictive`) or the response
    model's on the comparator (`prognostic`), on the data as they are (seed None) or with the
    arm (predictive) or the response (prognostic) permuted within each design."""
    from ketapredict.benefit.prognosis import comparator_importance

    data, columns = task.data, task.columns
    rng = None if seed is None else np.random.default_rng(seed)
    if kind == "prognostic":
        y = data.y if rng is None else r.permuted_within(task.trials, data.y, rng)
        return comparator_importance(
            data, y, task.X, columns, task.inputs, seed=task.seed, leave_out=task.aliased
        )
    if rng is not None:
        data = replace(data, treated=r.permuted_within(task.trials, data.treated, rng))
    fitted = fit_learner(task.learner, data, seed=task.seed)
    model = BenefitModel.from_fitted(task.learner, fitted, task.X)
    contributions = model.contributions(task.X)[:, : len(columns)]
    contributions[:, task.aliased] = 0.0
    return r.importance_by_input(contributions, columns, task.inputs)


def _aliased(X: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Per model column, True where it is constant within every design."""
    return (pd.DataFrame(X).assign(trial=trials).groupby("trial").nunique() <= 1).all().to_numpy()


def _figures(paths: Layout, curves: dict[str, pd.DataFrame]) -> dict[str, Any]:
    from ketapredict import plots

    title = "Benefit, held-out patients"
    figs = {
        "qini": plots.plot_qini(curves["qini"], title=f"{title}: Qini"),
        "calibration_for_benefit": plots.plot_calibration_for_benefit(
            curves["calibration_for_benefit"], title=f"{title}: calibration for benefit"
        ),
        "policy_value": plots.plot_policy_value(
            curves["policy_value"], title="Treat if estimated benefit > t (held-out)"
        ),
    }
    written = {}
    for name, fig in figs.items():
        written[name] = paths.benefit_figures / f"{name}.png"
        write_bytes(plots.save_png(fig), written[name])
    return written


def _log(paths: Layout, registry: dict[str, Any], summary: dict[str, Any], pngs) -> None:
    """The measures and figures, to the registered learner's training run."""
    if not registry.get("run_id"):
        return
    with tracking.resume_run(root=paths.root, run_id=registry["run_id"], stage=STAGE):
        for learner, values in summary["learners"].items():
            tracking.log_metrics({f"eval_{learner}_{k}": v for k, v in values.items()})
        tracking.log_metrics({f"roles_{k}": v for k, v in summary["roles"].items()})
        for png in pngs.values():
            tracking.log_file_artifact(png, "evaluation")
        tracking.log_file_artifact(paths.benefit_roles, "evaluation")
