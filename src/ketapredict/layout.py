"""Where every file lives, relative to the project root: the one place a path is spelled.
Fixed by convention (dvc.yaml lists the same paths), not tunable."""

from __future__ import annotations

from pathlib import Path

from ketapredict.contract import FOLDERS, MODEL, AnyTask


class Layout:
    """The project's folders and files; per-task paths are methods taking the task."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.params = root / "params.yaml"
        # inputs the user edits
        self.configs = root / "configs"
        self.trials = self.configs / "trials"
        self.population = self.configs / "population.yaml"
        self.model = self.configs / "model.yaml"
        self.scenarios = self.configs / "scenarios"
        self.pooled = self.configs / "pooled.yaml"
        # stage outputs
        self.synthetic = root / "data" / "synthetic"
        self.features = root / "data" / "features"
        self.features_summary = self.features / "summary.json"
        self.reports = root / "reports"
        self.trial_reports = self.reports / "trials"
        self.replication = self.trial_reports / "replication.json"
        self.replication_md = self.trial_reports / "replication.md"
        self.replication_html = self.trial_reports / "replication.html"
        self.models = root / "models"
        self.metrics = self.reports / "metrics.json"
        self.truth_recovery = self.reports / "explain" / "truth_recovery.json"
        self.truth_summary = self.reports / "truth.json"
        self.benefit_reports = self.reports / "benefit"
        self.benefit_metrics = self.benefit_reports / "metrics.json"
        self.benefit_roles = self.benefit_reports / "roles.json"
        self.benefit_plots = self.benefit_reports / "plots"
        self.benefit_figures = self.benefit_reports / "figures"
        self.plan_data = root / "data" / "plan"  # the study's cells, by fingerprint
        self.plan_reports = self.reports / "plan"
        self.plan_summary = self.plan_reports / "summary.json"
        self.model_card = self.reports / "model_card.md"
        self.model_card_html = self.reports / "model_card.html"
        # MLflow's store when MLFLOW_TRACKING_URI is not set
        self.mlflow_db = root / "mlflow.db"
        self.mlartifacts = root / "mlartifacts"

    @property
    def dictionary(self) -> Path:
        """The data dictionary written beside the generated tables."""
        return self.synthetic / "dictionary.csv"

    def scenario(self, name: str) -> Path:
        """A scenario: the effect model's alternative (configs/scenarios/<name>.yaml)."""
        return self.scenarios / f"{name}.yaml"

    @property
    def synthetic_model(self) -> Path:
        """The effect model the generate stage used, its scenario applied: the truth's rules."""
        return self.synthetic / "effect_model.json"

    def synthetic_table(self, name: str) -> Path:
        """One of the generate stage's tables (patients, visits, outcomes, truth, effects)."""
        return self.synthetic / f"{name}.parquet"

    def table(self, task: AnyTask) -> Path:
        """The features stage's modelling table for `task`."""
        return self.features / f"{task}.parquet"

    def trained(self, task: AnyTask) -> Path:
        """The train stage's folder for `task`: its models and registry.json."""
        return self.root / "data" / "train" / task

    def trained_model(self, task: AnyTask, label: str = MODEL) -> Path:
        """The folder of one of `task`'s trained models (LightGBM unless `label` says)."""
        return self.trained(task) / FOLDERS[label]

    def registry_record(self, task: AnyTask) -> Path:
        """What training registered for `task`: run id, version, champion decision."""
        return self.trained(task) / "registry.json"

    def training_report(self, task: AnyTask) -> Path:
        return self.reports / "train" / f"{task}.json"

    def stage_reports(self, stage: str, task: AnyTask) -> Path:
        """A stage's report folder for `task` (reports/<stage>/<task>)."""
        return self.reports / stage / task

    def stage_table(self, stage: str, task: AnyTask, name: str) -> Path:
        """A table a stage writes for `task` (reports/<stage>/<task>/<name>.csv)."""
        return self.stage_reports(stage, task) / f"{name}.csv"

    def shap_values(self, task: AnyTask) -> Path:
        """The explain stage's SHAP values of `task`'s test patients."""
        return self.stage_reports("explain", task) / "shap_values.parquet"

    def figures(self, stage: str, task: AnyTask) -> Path:
        """A stage's figures for `task` (PNG files named by figure)."""
        return self.stage_reports(stage, task) / "figures"

    def exported(self, task: AnyTask) -> Path:
        """The champion's exported copy for `task` (models/<task>), scored without MLflow."""
        return self.models / task


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` that holds params.yaml (else `start` itself)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params.yaml").exists():
            return folder
    return here
