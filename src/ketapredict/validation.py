"""Frozen, strict pydantic base models and one-line error messages for every user file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ketapredict.errors import KetapredictError


class Strict(BaseModel):
    """Base for every spec and params model: immutable, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


M = TypeVar("M", bound=BaseModel)


def describe_validation_error(exc: ValidationError, source: str) -> str:
    """One line naming the file, the key path and the problem (first problem only, plus count)."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key; check the spelling against the documented keys"
    elif first["type"] == "missing":
        msg = "required key is missing"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{source}: {where}: {msg}{more}"


def parse_model(cls: type[M], data: Any, *, source: str, error: type[KetapredictError]) -> M:
    """Validate `data` into `cls`, raising `error` with a one-line message on failure."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise error(describe_validation_error(exc, source)) from None


def load_yaml(path: str | Path, *, error: type[KetapredictError]) -> Any:
    """Read a YAML file into plain data, with a one-line error if it is missing or malformed."""
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: file not found")
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise error(f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
