"""Each row's top reasons in plain words: TreeSHAP contributions summed per raw input."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ketapredict.contract import BENEFIT, OUTCOME, AnyTask
from ketapredict.features import SCHEMA, Feature
from ketapredict.score.benefit import EXPLAINED

_HIDDEN_UNITS = ("", "0/1", "count", "fraction")


def reason_columns(task: AnyTask, explain: int) -> list[str]:
    """With a probability, contributions are log-odds (`_logodds`); with the benefit, they are
    on its own scale, the risk difference (`_contribution`, and `benefit_base`, `_other`)."""
    o, unit, rest = OUTCOME[task], _unit(task), _rest(task)
    k = min(explain, _explained(task))
    names = [
        f"{o}_reason_{i}{part}" for i in range(1, k + 1) for part in ("", "_input", "_value", unit)
    ]
    return [*names, f"{o}_base{rest}", f"{o}_other{rest}"]


def _unit(task: AnyTask) -> str:
    return "_contribution" if task == BENEFIT else "_logodds"


def _rest(task: AnyTask) -> str:
    return "" if task == BENEFIT else "_logodds"


def _explained(task: AnyTask) -> int:
    return len(EXPLAINED) if task == BENEFIT else len(SCHEMA[task])


def top_reasons(
    frame: pd.DataFrame,
    contributions: np.ndarray,
    raw: np.ndarray,
    *,
    k: int,
    task: AnyTask,
    inputs: Sequence[Feature],
    group: np.ndarray,
) -> dict[str, pa.Array]:
    """The k raw inputs with the largest |contribution| (log-odds, or the benefit's own scale;
    one-hot columns summed into their input), as sentences and as input, value and
    contribution columns."""
    per_input = contributions[:, :-1] @ group
    top = _largest(np.abs(per_input), min(k, per_input.shape[1]))
    top_values = np.take_along_axis(per_input, top, axis=1)
    o, unit, rest = OUTCOME[task], _unit(task), _rest(task)
    texts = _ValueTexts(inputs, frame)
    out: dict[str, pa.Array] = {}
    for i in range(top.shape[1]):
        which, value = top[:, i], texts.pick(top[:, i])
        out[f"{o}_reason_{i + 1}"] = _sentence(inputs, task, which, value, top_values[:, i])
        out[f"{o}_reason_{i + 1}_input"] = pa.array([f.name for f in inputs]).take(which)
        out[f"{o}_reason_{i + 1}_value"] = value
        out[f"{o}_reason_{i + 1}{unit}"] = pa.array(top_values[:, i])
    # a model column no reason names (the benefit's fixed crossover period) is in the base
    hidden = np.flatnonzero(group.sum(axis=1) == 0)
    base = contributions[:, -1] + contributions[:, hidden].sum(axis=1)
    out[f"{o}_base{rest}"] = pa.array(base)
    out[f"{o}_other{rest}"] = pa.array(raw - base - top_values.sum(axis=1))
    return out


def _largest(size: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k largest values, largest first (k is small: k argmax
    passes beat a partition and a sort). Overwrites `size`."""
    rows = np.arange(len(size))
    top = np.empty((len(size), k), dtype=np.intp)
    for i in range(k):
        top[:, i] = size.argmax(axis=1)
        size[rows, top[:, i]] = -1.0
    return top


def _sentence(
    inputs: Sequence[Feature], task: AnyTask, which: np.ndarray, value: pa.Array, c: np.ndarray
) -> pa.Array:
    """e.g. 'Alcohol use disorder in a first-degree relative = yes raises predicted response'."""
    meaning = pa.array([f.meaning for f in inputs]).take(which)
    verbs = pa.array(["lowers", "does not change", "raises"]).take(np.sign(c).astype(int) + 1)
    outcome = " estimated benefit" if task == BENEFIT else f" predicted {OUTCOME[task]}"
    return pc.binary_join_element_wise(meaning, " = ", value, " ", verbs, outcome, "")


class _ValueTexts:
    """Each raw input's values as words (numbers with units, yes/no, categories, 'missing'),
    made once per input and chunk, then picked per row."""

    def __init__(self, inputs: Sequence[Feature], frame: pd.DataFrame) -> None:
        self.inputs, self.frame = inputs, frame
        self.cache: dict[int, pa.Array] = {}

    def pick(self, which: np.ndarray) -> pa.Array:
        used = np.flatnonzero(np.bincount(which, minlength=len(self.inputs)))
        position = np.zeros(len(self.inputs), dtype=np.intp)
        position[used] = np.arange(len(used))
        arrays = [self._text(int(i)) for i in used]
        return arrays[0] if len(arrays) == 1 else pc.choose(position[which], *arrays)

    def _text(self, i: int) -> pa.Array:
        if i not in self.cache:
            f = self.inputs[i]
            self.cache[i] = pc.fill_null(_words(f, self.frame[f.name]), "missing")
        return self.cache[i]


def _words(f: Feature, column: pd.Series) -> pa.Array:
    if f.kind == "category":  # validation hands categories over as Categoricals
        codes = column.cat.codes.to_numpy()
        words = pa.array(column.cat.categories.to_numpy(dtype=object), pa.string())
        return words.take(pa.array(codes, mask=codes < 0))
    values = column.to_numpy(np.float64)
    if f.kind == "binary":
        index = np.where(np.isnan(values), 2, values).astype(int)
        return pa.array(["no", "yes", None], pa.string()).take(index)
    text = pc.cast(pc.round(pa.array(values, from_pandas=True), 2), pa.string())
    unit = "" if f.unit in _HIDDEN_UNITS else f" {f.unit}"
    return pc.binary_join_element_wise(text, unit, "")
