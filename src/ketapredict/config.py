"""params.yaml, parsed once at the edge into frozen models; a typo is an error, not a default."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from ketapredict.errors import ConfigError
from ketapredict.validation import Strict, load_yaml, parse_model


class Paths:
    """Where things live, relative to the project root (fixed by convention, not tunable)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.configs = root / "configs"
        self.trials = self.configs / "trials"
        self.population = self.configs / "population.yaml"
        self.model = self.configs / "model.yaml"
        self.synthetic = root / "data" / "synthetic"
        self.reports = root / "reports"
        self.models = root / "models"
        self.params = root / "params.yaml"


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` that holds params.yaml (else `start` itself)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params.yaml").exists():
            return folder
    return here


class GenerateParams(Strict):
    """The `generate` stage: which trial designs, how many patients each, and the seed."""

    seed: int = Field(ge=0)
    relapse_horizon_days: float = Field(gt=0)
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


class Params(Strict):
    generate: GenerateParams


def load_params(path: str | Path) -> Params:
    """Parse params.yaml; raises ConfigError with one line naming the key and the problem."""
    data = load_yaml(path, error=ConfigError)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of stage sections at the top level")
    return parse_model(Params, data, source=str(path), error=ConfigError)
