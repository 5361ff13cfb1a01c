"""User files are read strictly and every problem is one line naming the file and the key."""

from __future__ import annotations

import pytest

from ketapredict.errors import SpecError
from ketapredict.validation import FloatPair, Strict, load_yaml, parse_model


class _Model(Strict):
    n: int
    span: FloatPair = (0.0, 1.0)


def test_parse_model_names_the_key_and_the_problem() -> None:
    assert parse_model(_Model, {"n": 3, "span": [1, 2]}, source="f.yaml", error=SpecError).span == (
        1.0,
        2.0,
    )
    with pytest.raises(SpecError, match=r"^f\.yaml: nn: unknown key; check the spelling"):
        parse_model(_Model, {"n": 1, "nn": 2}, source="f.yaml", error=SpecError)
    with pytest.raises(SpecError, match=r"^f\.yaml: n: required key is missing$"):
        parse_model(_Model, {}, source="f.yaml", error=SpecError)
    with pytest.raises(SpecError, match=r"\(and 1 more problem\(s\)\)"):
        parse_model(_Model, {"n": "3", "x": 1}, source="f.yaml", error=SpecError)


def test_values_keep_their_yaml_type() -> None:
    with pytest.raises(SpecError, match="n:"):
        parse_model(_Model, {"n": True}, source="f", error=SpecError)
    with pytest.raises(SpecError, match="n:"):
        parse_model(_Model, {"n": 2.5}, source="f", error=SpecError)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a: 1\na: 2\n", "key 'a' appears twice"),
        (b"a: [1, 2\n", "line 2: not valid YAML"),
        (b"a: caf\xe9\n", "not UTF-8 text"),
        (b"a: !!python/object:os.system {}\n", "not valid YAML"),
    ],
)
def test_load_yaml_refuses_bad_files_in_one_line(tmp_path, content: bytes, message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(content)
    with pytest.raises(SpecError, match=message) as info:
        load_yaml(path, error=SpecError)
    assert "\n" not in str(info.value)


def test_load_yaml_missing_file(tmp_path) -> None:
    with pytest.raises(SpecError, match="file not found"):
        load_yaml(tmp_path / "none.yaml", error=SpecError)
    (tmp_path / "ok.yaml").write_text("a: [1, 2]\n")
    assert load_yaml(tmp_path / "ok.yaml", error=SpecError) == {"a": [1, 2]}
