"""Strict models and one-line errors for every user file: unknown keys, YAML types kept,
repeated keys refused, and each problem named by file, key path and line."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from ketapredict.errors import ConfigError, SpecError
from ketapredict.validation import FloatPair, Strict, load_yaml, parse_model


class Inner(Strict):
    share: float
    pair: FloatPair = (0.0, 1.0)


class Outer(Strict):
    n: int
    flag: bool = False
    inner: Inner


def _parse(data: object) -> Outer:
    return parse_model(Outer, data, source="spec.yaml", error=SpecError)


def test_a_valid_mapping_parses_into_a_frozen_model() -> None:
    model = _parse({"n": 3, "inner": {"share": 1, "pair": [0.5, 2]}})
    assert model.inner.share == 1.0 and model.inner.pair == (0.5, 2.0)  # an int is a float
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        model.n = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"n": 3, "inner": {"share": 1}, "extra": 1}, r"^spec\.yaml: extra: unknown key; check"),
        ({"n": 3, "inner": {"share": 1, "sahre": 2}}, r"^spec\.yaml: inner\.sahre: unknown key"),
        ({"inner": {"share": 1}}, r"^spec\.yaml: n: required key is missing$"),
        ({"n": "600", "inner": {"share": 1}}, r"^spec\.yaml: n: Input should be a valid integer"),
        ({"n": 2.5, "inner": {"share": 1}}, r"^spec\.yaml: n: Input should be a valid integer"),
        ({"n": 1, "flag": 1, "inner": {"share": 1}}, r"^spec\.yaml: flag: Input should be a valid"),
        ({"n": True, "inner": {"share": 1}}, r"^spec\.yaml: n: Input should be a valid integer"),
        ({"n": "x", "inner": {}}, r"^spec\.yaml: n: .* \(and 1 more problem\(s\)\)$"),
        ([1, 2], r"^spec\.yaml: \(top level\): Input should be a valid dictionary"),
    ],
)
def test_each_problem_is_one_line_naming_the_key(data: object, message: str) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        _parse(data)
    assert "\n" not in str(caught.value)


def test_yaml_keeps_its_types(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("n: 3\nflag: true\ninner: {share: 0.5, pair: [1, 2]}\n")
    assert _parse(load_yaml(path, error=SpecError)) == Outer(
        n=3, flag=True, inner=Inner(share=0.5, pair=(1.0, 2.0))
    )


def test_a_key_given_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("a:\n  seed: 1\n  other: 2\n  seed: 3\n")
    with pytest.raises(ConfigError, match=r"params\.yaml: line 4: .*key 'seed' appears twice"):
        load_yaml(path, error=ConfigError)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, r"file not found$"),
        (b"a: r\xe9sum\xe9\n", r"not UTF-8 text \(byte 0xe9 at offset 4\); save it as UTF-8"),
        (b"a: [1, 2\n", r"spec\.yaml: line \d+: not valid YAML"),
        (b"a: !!python/object/apply:os.system [echo]\n", r"not valid YAML"),
    ],
)
def test_unreadable_files_are_one_line_errors(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "spec.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SpecError, match=message) as caught:
        load_yaml(path, error=SpecError)
    assert "\n" not in str(caught.value)


def test_a_folder_in_place_of_the_file_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").mkdir()
    with pytest.raises(SpecError, match=r"spec\.yaml: cannot be read"):
        load_yaml(tmp_path / "spec.yaml", error=SpecError)
