"""Trial specifications as data: design, population, arms, visits, dropout, missingness."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import Field, model_validator

from ketapredict.cohort.arms import Arm
from ketapredict.cohort.design import Phase, Sequence, Visits, Withdrawal
from ketapredict.cohort.effects import EffectModel
from ketapredict.cohort.measurement import Measurement
from ketapredict.cohort.population import Inclusion, Override, PopulationSpec, apply_overrides
from ketapredict.cohort.scales import SCALES, Scale
from ketapredict.errors import SpecError
from ketapredict.validation import Strict, load_yaml, parse_model

DESIGNS = ("parallel", "crossover", "open_label", "randomized_withdrawal")


class Dropout(Strict):
    """Who drops out: at random (mcar), by an observed covariate (mar, `depends_on`), or by
    the unobserved outcome propensity (mnar: non-responders drop out). `strength` is the rise
    in log-odds per SD of the driver."""

    rate: float = Field(default=0.0, ge=0, lt=1)
    mechanism: Literal["mcar", "mar", "mnar"] = "mcar"
    depends_on: str | None = None
    strength: float = 1.0

    @model_validator(mode="after")
    def _check(self) -> Dropout:
        if self.mechanism == "mar" and self.depends_on is None:
            raise ValueError("MAR needs depends_on: the observed covariate it depends on")
        if self.mechanism == "mnar" and self.depends_on is not None:
            raise ValueError("MNAR depends on unobserved values, not on depends_on; remove it")
        return self


class Missingness(Dropout):
    """Missing covariate values; under mnar each column by its own true value."""

    columns: list[str] = []


STATISTICS = (
    "response_rate", "remission_rate", "mean_change", "sd_change", "mean_difference",
    "ancova_difference", "odds_ratio", "median_relapse_days", "relapse_proportion",
    "hazard_ratio", "km_survival", "ae_rate", "ae_mean", "baseline_mean", "covariate_mean",
    "covariate_sd", "count",
)  # fmt: skip
GROUPS = ("all", "remitters", "responders_not_remitted", "no_maintenance")


class Target(Strict):
    """One published figure and how to compute its simulated counterpart (see README)."""

    label: str
    statistic: Literal[STATISTICS]  # type: ignore[valid-type]
    value: float
    arm: str | None = None
    versus: str | None = None
    visit: str | None = None
    column: str | None = None
    group: Literal[GROUPS] = "all"  # type: ignore[valid-type]
    at_days: float | None = Field(default=None, gt=0)
    # Response as improvement >= this fraction of baseline (e.g. 0.3 for a 30 % CAPS-5 drop);
    # None = the usual >= 50 %.
    threshold: float | None = Field(default=None, gt=0, lt=1)
    verified: bool = True
    tuned: bool = False
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> Target:
        needs = {
            "mean_difference": ("arm", "versus", "visit"),
            "ancova_difference": ("arm", "versus", "visit"),
            "odds_ratio": ("arm", "versus", "visit"),
            "hazard_ratio": ("arm", "versus"),
            "km_survival": ("at_days",),
            "ae_rate": ("column",),
            "ae_mean": ("column",),
            "covariate_mean": ("column",),
            "covariate_sd": ("column",),
        }.get(self.statistic, ())
        for key in needs:
            if getattr(self, key) is None:
                raise ValueError(f"statistic {self.statistic!r} needs {key!r}")
        if self.threshold is not None and self.statistic not in ("response_rate", "odds_ratio"):
            raise ValueError(
                f"threshold applies to response_rate and odds_ratio only, not {self.statistic!r}"
            )
        return self


class PopulationOverrides(Strict):
    overrides: dict[str, Override] = {}
    diagnosis: dict[str, float] | None = None
    inclusion: Inclusion = Inclusion()


class TrialSpec(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    citation: str
    sources: list[str] = []
    design: Literal[DESIGNS]  # type: ignore[valid-type]
    published_n: int = Field(gt=0)
    scale: Literal[tuple(SCALES)]  # type: ignore[valid-type]
    remission_max: int | None = Field(default=None, ge=0)
    population: PopulationOverrides = PopulationOverrides()
    arms: list[Arm] = Field(min_length=1)
    sequences: list[Sequence] = []
    washout_days: float = Field(default=0.0, ge=0)
    withdrawal: Withdrawal | None = None
    control: str | None = None
    visits: Visits
    follow_up_days: float = Field(default=7.0, gt=0)
    follow_up_min_days: float | None = Field(default=None, gt=0)
    phases: list[Phase] = []
    dropout: Dropout = Dropout()
    missingness: Missingness = Missingness()
    measurement: Measurement = Measurement()
    published: list[Target] = []

    @model_validator(mode="after")
    def _check(self) -> TrialSpec:
        names = [a.name for a in self.arms]
        every = [a.name for a in self.all_arms()]
        if len(set(every)) != len(every):
            raise ValueError("arm names must be unique (phases' own arms included)")
        for ref in self._references():
            if ref not in names:
                raise ValueError(f"undefined arm {ref!r}; defined arms: {', '.join(names)}")
        for ref in [ref for t in self.published for ref in (t.arm, t.versus) if ref]:
            if ref not in every:
                raise ValueError(f"undefined arm {ref!r}; defined arms: {', '.join(every)}")
        shares = {
            "parallel": [a.allocation for a in self.arms],
            "crossover": [s.allocation for s in self.sequences],
            "randomized_withdrawal": [self.arm(n).allocation for n in self._withdrawal_arms()],
        }.get(self.design)
        if shares is not None and abs(sum(shares) - 1.0) > 1e-3:
            raise ValueError(f"{self.design} allocation adds up to {sum(shares):.4g}, not 1")
        self._check_design()
        self._check_phases()
        self._check_exits()
        return self

    def _references(self) -> list[str]:
        """Arms the randomized part names: sequences, withdrawal arms, the control."""
        refs = [a for s in self.sequences for a in s.arms] + self._withdrawal_arms()
        return refs + ([self.control] if self.control else [])

    def _withdrawal_arms(self) -> list[str]:
        return list(self.withdrawal.arms) if self.withdrawal else []

    def _check_design(self) -> None:
        if self.design == "parallel" and len(self.arms) < 2:
            raise ValueError("a parallel design needs at least two arms")
        if self.design == "crossover":
            if not self.sequences:
                raise ValueError("a crossover design needs sequences")
            if len({len(s.arms) for s in self.sequences}) != 1:
                raise ValueError("all crossover sequences need the same number of periods")
        if self.design == "open_label" and len(self.arms) != 1:
            raise ValueError("an open_label design has exactly one arm")
        if self.design == "randomized_withdrawal":
            if self.withdrawal is None:
                raise ValueError("a randomized_withdrawal design needs a withdrawal section")
            if self.arms[0].name in self.withdrawal.arms:
                raise ValueError("the first arm is the induction; it cannot be a withdrawal arm")
        if self.follow_up_min_days and self.follow_up_min_days > self.follow_up_days:
            raise ValueError("follow_up_min_days exceeds follow_up_days")

    def _check_phases(self) -> None:
        if self.phases and self.design == "randomized_withdrawal":
            raise ValueError(
                "phases: a randomized_withdrawal design cannot have phases (its withdrawal is "
                "its second stage); use a crossover, parallel or open_label design"
            )
        if self.phases and self.follow_up_min_days:
            raise ValueError(
                "follow_up_min_days: a design with phases follows each stage up to the next "
                "one; remove follow_up_min_days"
            )
        seen = [p.name for p in self.phases]
        if len(set(seen)) != len(seen):
            raise ValueError("phases: phase names must be unique")
        known = [a.name for a in self.arms]
        for i, phase in enumerate(self.phases):
            if isinstance(phase.arm, str) and phase.arm not in known:
                raise ValueError(
                    f"phases.{i}.arm: undefined arm {phase.arm!r}; defined arms: "
                    f"{', '.join(known)} (or define the arm in the phase)"
                )
            known.append(phase.arm_name)

    def _check_exits(self) -> None:
        """An exit is decided at a visit between the exit session and the next one."""
        where = [(f"arms.{i}", a, self.visits, "visits") for i, a in enumerate(self.arms)]
        where += [
            (f"phases.{i}.arm", self.arm(p.arm_name), p.visits, f"phases.{i}.visits")
            for i, p in enumerate(self.phases)
        ]
        for key, arm, visits, visits_key in where:
            if arm.exit is None:
                continue
            low, high = arm.exit_window()
            if not any(low < h < high for h in visits.hours):
                raise ValueError(
                    f"{key}.exit: no visit between session {arm.exit.after_session} and the "
                    f"next ({low:g} h and {high:g} h after the first dose) to decide the exit "
                    f"at; add one to {visits_key}.hours"
                )

    def all_arms(self) -> list[Arm]:
        """The randomized part's arms, then the arms the phases define."""
        return list(self.arms) + [p.arm for p in self.phases if isinstance(p.arm, Arm)]

    def phase_view(self, phase: Phase) -> TrialSpec:
        """The trial as one phase sees it: the phase's visits and follow-up, nothing
        randomized after it."""
        update = {
            "visits": phase.visits,
            "follow_up_days": phase.follow_up_days,
            "follow_up_min_days": None,
            "withdrawal": None,
        }
        return self.model_copy(update=update)

    def schedule_spec(self, arm_name: str) -> TrialSpec:
        """The spec an arm's course is scheduled by: the trial's own for a randomized arm,
        else the view of the first phase that gives it."""
        if any(a.name == arm_name for a in self.arms):
            return self
        return self.phase_view(next(p for p in self.phases if p.arm_name == arm_name))

    def scale_spec(self) -> Scale:
        """The trial's scale, with its own remission cut-off if it defined one."""
        scale = SCALES[self.scale]
        if self.remission_max is None:
            return scale
        return dataclasses.replace(scale, remission_max=self.remission_max)

    def arm(self, name: str) -> Arm:
        """The arm of that name: of the randomized part, else the one a phase defines."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        return next(a for a in self.all_arms() if a.name == name)

    def check_references(self, population: PopulationSpec, model: EffectModel) -> None:
        """Cross-file checks: covariates named here exist; drugs and routes are modelled."""
        known = set(population.covariates) | {"hypertension"}
        named = list(self.population.overrides) + list(self.missingness.columns)
        named += [d.depends_on for d in (self.dropout, self.missingness) if d.depends_on]
        for name in named:
            if name not in known:
                raise ValueError(f"undefined covariate {name!r}")
        self.measurement.check_columns(population)
        for arm in self.all_arms():
            if arm.drug not in model.drugs or arm.route not in model.routes:
                raise ValueError(f"arm {arm.name!r}: drug or route missing from the effect model")


def load_trial(path: str | Path, population: PopulationSpec, model: EffectModel) -> TrialSpec:
    """Load and validate one trial spec; any problem is a SpecError naming the file and key."""
    data = load_yaml(path, error=SpecError)
    spec = parse_model(TrialSpec, data, source=str(path), error=SpecError)
    try:
        spec.check_references(population, model)
        population_for(spec, population)
    except ValueError as exc:
        raise SpecError(f"{path}: {exc}") from None
    return spec


def population_for(spec: TrialSpec, population: PopulationSpec) -> PopulationSpec:
    return apply_overrides(population, spec.population.overrides, spec.population.diagnosis)


def load_population(path: str | Path) -> PopulationSpec:
    data = load_yaml(path, error=SpecError)
    return parse_model(PopulationSpec, data, source=str(path), error=SpecError)


class Scenario(Strict):
    """An alternative truth: changes to configs/model.yaml (mappings merge key by key, a list
    replaces the list). A hypothetical scenario goes beyond the evidence, for methods research."""

    title: str
    hypothetical: bool
    description: str
    changes: dict[str, Any] = {}


def _overlay(base: Any, changes: dict[str, Any], where: str) -> Any:
    out = dict(base)
    for key, value in changes.items():
        if key not in out:
            raise SpecError(f"{where}.{key}: no such key in the effect model; check the spelling")
        if isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = _overlay(out[key], value, f"{where}.{key}")
        else:
            out[key] = value
    return out


def load_effect_model(path: str | Path, scenario: str | Path | None = None) -> EffectModel:
    """The effect model, with a scenario's changes applied when one is given."""
    data = load_yaml(path, error=SpecError)
    source = str(path)
    if scenario is not None:
        raw = load_yaml(scenario, error=SpecError)
        changes = parse_model(Scenario, raw, source=str(scenario), error=SpecError).changes
        data = _overlay(data, changes, f"{scenario}: changes")
        source = f"{path} with {scenario}"
    return parse_model(EffectModel, data, source=source, error=SpecError)


def read_effect_model(path: str | Path) -> EffectModel:
    """The effect model a generate stage wrote down (data/synthetic/effect_model.json)."""
    return EffectModel.model_validate_json(Path(path).read_text())


def load_trials(
    directory: str | Path, population: PopulationSpec, model: EffectModel
) -> dict[str, TrialSpec]:
    """All trial specs in a directory, keyed by name; file stem must equal the spec's name."""
    specs: dict[str, TrialSpec] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        spec = load_trial(path, population, model)
        if spec.name != path.stem:
            raise SpecError(f"{path}: name {spec.name!r} must equal the file name {path.stem!r}")
        specs[spec.name] = spec
    if not specs:
        raise SpecError(f"{directory}: no trial specs (*.yaml) found")
    return specs


class SpecFiles(Protocol):
    """Where the specs live: the trials folder, the population and effect model files, and
    the scenarios."""

    trials: Path
    population: Path
    model: Path

    def scenario(self, name: str) -> Path: ...


@dataclass(frozen=True)
class Specs:
    """Every spec of a project: the shared population and effect model, and the trial designs."""

    population: PopulationSpec
    model: EffectModel
    trials: dict[str, TrialSpec]


def load_specs(files: SpecFiles, scenario: str = "literature") -> Specs:
    """Load and cross-check the population, the effect model under `scenario` and every trial
    spec."""
    path = files.scenario(scenario)
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise SpecError(
            f"params.yaml: generate.scenario: no scenario {scenario!r} ({path} is missing); "
            f"available: {', '.join(known) or 'none'}"
        )
    population = load_population(files.population)
    model = load_effect_model(files.model, path)
    return Specs(population, model, load_trials(files.trials, population, model))
