"""Frozen, strict pydantic base models and one-line error messages for every user file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from ketapredict.errors import KetapredictError


class Strict(BaseModel):
    """Base for every spec and params model: immutable, unknown keys are errors, and values
    keep their YAML type: `true` is not the number 1, "600" not an integer, 2.5 not an
    integer (an integer is a float, though)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


# YAML has lists, not tuples: a pair is written [a, b]
FloatPair = Annotated[tuple[float, float], BeforeValidator(_as_tuple)]
NamePair = Annotated[tuple[str, str], BeforeValidator(_as_tuple)]


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
    """Read a YAML file into plain data, with a one-line error if it is missing, not UTF-8,
    malformed, or repeats a key (YAML would keep the last value without a word)."""
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: file not found")
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_UniqueKeyLoader)  # a SafeLoader: no Python objects
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
            "; save it as UTF-8"
        ) from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise error(f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None


# libyaml's parser where PyYAML was built with it (ten times faster on the trial specs), the
# pure-Python one otherwise; both construct only plain data (SafeConstructor)
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that refuses a mapping repeating a key."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in getattr(node, "value", []):
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]
