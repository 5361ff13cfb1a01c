"""params.yaml, parsed once at the edge into frozen models; a typo is an error, not a default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from ketapredict.contract import Task
from ketapredict.errors import ConfigError
from ketapredict.validation import FloatPair, Strict, load_yaml, parse_model

# Seeds reach LightGBM (a C int) and scikit-learn (below 2**32): one range for every stage.
Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]


class GenerateParams(Strict):
    """The `generate` stage: which trial designs, how many patients each, and the seed. The
    relapse horizon of its truth is the label's (params.yaml: features.relapse_horizon_days,
    copied here by Params), so the oracle and the label cannot disagree."""

    seed: Seed
    relapse_horizon_days: float = Field(gt=0)
    # The effect model's scenario: configs/scenarios/<name>.yaml applied to configs/model.yaml.
    scenario: str = Field(default="literature", pattern=r"^[a-z][a-z0-9_]*$")
    cohorts: dict[str, int]

    @field_validator("cohorts")
    @classmethod
    def _sizes(cls, value: dict[str, int]) -> dict[str, int]:
        if not value:
            raise ValueError("list at least one trial design and its number of patients")
        for name, n in value.items():
            if n < 1:
                raise ValueError(f"{name}: number of patients must be at least 1, got {n}")
        return value


class ReplicateParams(Strict):
    """The `replicate` stage: replications per preset, size of the population-value run."""

    seed: Seed
    replications: int = Field(ge=10, le=10_000)
    population_size: int = Field(ge=1_000)


class ResponderLabel(Strict):
    """Response = improvement >= threshold at the visit: 24 h after the first active dose,
    or the end of the course (24 h after its last session)."""

    visit: Literal["24h", "end"] = "24h"
    threshold: float = Field(default=0.5, gt=0, lt=1)


class DataParams(Strict):
    """Where the cohort comes from: the generator, or a user's own files in `folder` (three
    tables or a flat table per task, checked as `ketapredict check` checks them)."""

    source: Literal["synthetic", "files"] = "synthetic"
    folder: str = Field(default="data/own", min_length=1)
    id_column: str = Field(default="patient_id", min_length=1)


class FeaturesParams(Strict):
    """The `features` stage: task tables, labels and the held-out test split."""

    seed: Seed
    test_fraction: float = Field(gt=0.05, lt=0.5)
    responder_label: ResponderLabel
    relapse_horizon_days: float = Field(gt=0)

    def label(self, task: Task) -> dict[str, Any]:
        """The keys that define `task`'s outcome, as params.yaml spells them: all that the
        task's train stage reads from this section (dvc.yaml lists the same keys)."""
        key = "responder_label" if task == "responder" else "relapse_horizon_days"
        return self.model_dump(include={key})


class SearchSpace(Strict):
    """LightGBM candidates drawn from this grid, each scored by grouped CV with early stopping."""

    # each value within what LightGBM accepts, so a bad grid stops here, not mid-training
    candidates: int = Field(ge=1, le=100)
    num_leaves: list[Annotated[int, Field(ge=2, le=131_072)]] = Field(min_length=1)
    learning_rate: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(min_length=1)
    min_child_samples: list[Annotated[int, Field(ge=0)]] = Field(min_length=1)
    reg_lambda: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(min_length=1)
    feature_fraction: list[Annotated[float, Field(gt=0, le=1)]] = Field(min_length=1)


class Gate(Strict):
    """Quality gate for the `champion` alias (on cross-validated out-of-fold predictions)."""

    min_auroc: float = Field(ge=0.5, le=1)
    max_brier: float = Field(gt=0, le=1)
    calibration_slope: FloatPair
    champion_tolerance: float = Field(ge=0, le=0.2)

    @field_validator("calibration_slope")
    @classmethod
    def _range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] < value[1]:
            raise ValueError("give [low, high] with 0 < low < high")
        return value


class TrainParams(Strict):
    """The `train_responder` and `train_relapse` stages."""

    seed: Seed
    cv_folds: int = Field(ge=3, le=10)
    max_trees: int = Field(ge=10, le=20_000)
    early_stopping_rounds: int = Field(ge=5)
    search: SearchSpace
    gate: Gate


class EvaluateParams(Strict):
    """The `evaluate` stage: resamples, subgroup size, decision-curve thresholds."""

    seed: Seed
    bootstrap_resamples: int = Field(ge=200, le=20_000)
    optimism_resamples: int = Field(ge=10, le=2_000)
    subgroup_min_rows: int = Field(ge=20)
    threshold_step: float = Field(gt=0, le=0.1)


class BenefitParams(Strict):
    """The `train_benefit` and `evaluate_benefit` stages (ketapredict.benefit)."""

    seed: Seed
    cv_folds: int = Field(ge=3, le=10)
    bootstrap_resamples: int = Field(ge=200, le=20_000)
    policy_threshold: float = Field(ge=-1, lt=1)
    role_permutations: int = Field(ge=10, le=1_000)


class PlanParams(Strict):
    """The `plan` stage (ketapredict.plan): the simulation study's grid. `grid: full` replaces
    sizes, replicates and population with the study a cluster would run (plan.study.FULL)."""

    seed: Seed
    grid: Literal["default", "full"] = "default"
    sizes: list[int] = Field(min_length=1)
    designs: list[str] = Field(min_length=1)
    scenarios: list[str] = Field(min_length=1)
    learners: list[Literal["logistic", "penalized_logistic", "lightgbm"]] = Field(min_length=1)
    # the benefit task's learners (ketapredict.benefit), on the randomized designs only
    benefit_learners: list[
        Literal["risk_strata", "t_learner", "x_learner", "dr_learner", "causal_forest"]
    ] = Field(default_factory=list)
    replicates: int = Field(ge=1, le=100_000)
    population: int = Field(ge=1_000, le=2_000_000)
    lightgbm_candidates: int = Field(ge=1, le=100)

    @field_validator("sizes")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        for n in value:
            if n < 20:
                raise ValueError(f"sample size {n}: use at least 20 patients per cohort")
        if len(set(value)) != len(value):
            raise ValueError("a sample size is listed twice; list each once")
        return sorted(value)

    @field_validator("designs", "scenarios")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a name is listed twice; list each once")
        return value


class Params(Strict):
    data: DataParams = DataParams()
    generate: GenerateParams
    replicate: ReplicateParams
    features: FeaturesParams
    train: TrainParams
    evaluate: EvaluateParams
    benefit: BenefitParams
    plan: PlanParams

    @model_validator(mode="before")
    @classmethod
    def _one_horizon(cls, data: Any) -> Any:
        """One relapse horizon, features.relapse_horizon_days, for the label and the truth."""
        generate, features = data.get("generate"), data.get("features")
        if not isinstance(generate, dict) or not isinstance(features, dict):
            return data
        if "relapse_horizon_days" in generate:
            raise ValueError(
                "generate.relapse_horizon_days: the horizon is set once, as "
                "features.relapse_horizon_days (the label's and the truth's); remove it here"
            )
        if "relapse_horizon_days" in features:
            generate = {**generate, "relapse_horizon_days": features["relapse_horizon_days"]}
        return {**data, "generate": generate}


def load_params(path: str | Path) -> Params:
    """Parse params.yaml; raises ConfigError with one line naming the key and the problem."""
    data = load_yaml(path, error=ConfigError)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of stage sections at the top level")
    return parse_model(Params, data, source=str(path), error=ConfigError)
