"""Inputs against the feature schema: the columns, then each chunk's rows, one mask per rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ketapredict.contract import ID, TASKS, AnyTask, Task
from ketapredict.errors import InputValidationError
from ketapredict.features import DOSE_LIMITS, SCHEMA, Feature, inputs_of
from ketapredict.score.read import as_text

RELAPSE_ONLY = tuple(f.name for f in SCHEMA["relapse"] if f not in SCHEMA["responder"])
RELAPSE_REQUIRED = tuple(f.name for f in SCHEMA["relapse"] if f.required and f.name in RELAPSE_ONLY)


@dataclass(frozen=True)
class Plan:
    """What a run checks: the inputs of the tasks it scores, and which every row must have.
    With both tasks the relapse-only inputs are required for p_relapse only."""

    tasks: tuple[AnyTask, ...]
    features: tuple[Feature, ...]
    required: frozenset[str]


def default_tasks(names: Sequence[str]) -> tuple[Task, ...]:
    """Both tasks when the input has the relapse model's required end-of-course columns."""
    found = {_key(n) for n in names}
    return TASKS if set(RELAPSE_REQUIRED) <= found else ("responder",)


def make_plan(tasks: Sequence[AnyTask]) -> Plan:
    """The inputs read from the file: every one in SCHEMA (the benefit model's comparator and
    crossover period are set by the run, not read)."""
    features = tuple(f for f in SCHEMA["relapse"] if any(f in inputs_of(t) for t in tasks))
    both = len(set(tasks)) == 2
    required = {f.name for f in features if f.required and not (both and f.name in RELAPSE_ONLY)}
    return Plan(tuple(dict.fromkeys(tasks)), features, frozenset(required | {ID}))


def match_columns(names: Sequence[str], plan: Plan) -> tuple[dict[str, str], list[str]]:
    """Map patient_id and each planned input to its name in the file (case and surrounding
    spaces ignored); return the map and the file's other columns, which are ignored."""
    wanted = [ID, *(f.name for f in plan.features)]
    found: dict[str, str] = {}
    for name in names:
        key = _key(name)
        if key in found and key in wanted:
            raise InputValidationError(f"column {key!r} appears twice ({found[key]!r}, {name!r})")
        found.setdefault(key, name)
    if ID not in found:
        raise InputValidationError(_no_id_message(names))
    missing = [f.name for f in plan.features if f.required and f.name not in found]
    if missing:
        models = " and ".join(plan.tasks) + (" models" if len(plan.tasks) > 1 else " model")
        raise InputValidationError(
            f"missing required column(s): {', '.join(missing)} (needed by the {models}; "
            "optional columns may be left out)"
        )
    unknown = [name for key, name in found.items() if key not in wanted]
    return {key: found[key] for key in wanted if key in found}, unknown


def _key(name: str) -> str:
    return name.strip().lower()


def _no_id_message(names: Sequence[str]) -> str:
    hint = ""
    if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
        hint = " (the header is one column: is the file separated by ';' or tabs, not commas?)"
    return f"no patient_id column: every row needs an identifier for the output{hint}"


@dataclass(frozen=True)
class Problem:
    """Rows breaking one rule in one column; `values` holds their text (None: value missing)."""

    column: str
    rule: str
    mask: np.ndarray
    values: pa.Array | None = None


@dataclass(frozen=True)
class Checked:
    """A chunk's parsed inputs (float64 numbers, lower-case Categoricals) and its problems."""

    frame: pd.DataFrame
    ids: pa.Array
    problems: list[Problem]
    invalid: np.ndarray
    relapse_ready: np.ndarray  # rows that have every input the relapse model requires


def check_chunk(batch: pa.RecordBatch, plan: Plan) -> Checked:
    """Parse and check one chunk: types, ranges, 0/1 flags, categories, required values."""
    n = batch.num_rows
    ids = batch.column(ID)
    problems = _problem(ID, "missing (required)", _np(ids.is_null()))
    data: dict[str, np.ndarray | pd.Series] = {}
    relapse_absent = np.zeros(n, dtype=bool)
    present = set(batch.schema.names)
    for f in plan.features:
        column = batch.column(f.name) if f.name in present else pa.nulls(n, pa.string())
        parse = _category if f.kind == "category" else _number
        data[f.name], absent, found = parse(f, column)
        problems += found
        if f.name in plan.required:
            problems += _problem(f.name, "missing (required)", absent)
        if f.name in RELAPSE_REQUIRED:
            relapse_absent |= absent
    if "route" in data and "dose" in data:
        dose = batch.column("dose") if "dose" in present else pa.nulls(n, pa.string())
        problems += _impossible_doses(data["route"], np.asarray(data["dose"]), dose)
    invalid = np.zeros(n, dtype=bool)
    for p in problems:
        invalid |= p.mask
    frame = pd.DataFrame(data, copy=False)  # no consolidation: columns are read one by one
    return Checked(frame, ids, problems, invalid, ~relapse_absent)


def _impossible_doses(route: pd.Series, dose: np.ndarray, column: pa.Array) -> list[Problem]:
    """A dose above what the route allows (features.DOSE_LIMITS): a unit mistake, not a dose."""
    found: list[Problem] = []
    for name, limit in DOSE_LIMITS.items():
        with np.errstate(invalid="ignore"):
            over = (route == name).to_numpy() & (dose > limit)
        unit = "mg" if name == "intranasal" else "mg/kg"
        route_name = name.upper() if name in ("iv", "im") else name
        rule = f"is not a possible {route_name} dose: more than {limit:g} {unit} per session"
        found += _problem("dose", rule, over, column)
    return found


def _problem(
    column: str, rule: str, mask: np.ndarray, values: pa.Array | None = None
) -> list[Problem]:
    """[] when no row breaks the rule (the usual case: no text is made), else the Problem."""
    if not mask.any():
        return []
    return [Problem(column, rule, mask, None if values is None else as_text(values))]


def _number(f: Feature, column: pa.Array) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    values, bad = _floats(column)
    found = _problem(f.name, "is not a number", bad, column)
    with np.errstate(invalid="ignore"):
        if f.kind == "binary":
            off = (values != 0) & (values != 1) & ~np.isnan(values)
            found += _problem(f.name, "is not 0 or 1", off, column)
        elif not _within(values, f.low, f.high):
            off = (values < f.low) | (values > f.high)
            unit = f" {f.unit}" if f.unit not in ("count", "fraction") else ""
            found += _problem(f.name, f"is outside {f.low:g} to {f.high:g}{unit}", off, column)
    missing = np.isnan(values)
    return values, missing & ~bad if found else missing, found


def _within(values: np.ndarray, low: float, high: float) -> bool:
    """Every value in [low, high] or missing: two passes and no mask, the usual case."""
    return not len(values) or bool(np.fmin.reduce(values) >= low and np.fmax.reduce(values) <= high)


def _floats(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """float64 values (NaN when missing or not a number) and the not-a-number mask."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return _floats(column.dictionary_decode())
    if pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return _np(pc.cast(column, pa.float64())), np.zeros(len(column), dtype=bool)
    if pa.types.is_null(kind):
        return np.full(len(column), np.nan), np.zeros(len(column), dtype=bool)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return np.full(len(column), np.nan), _np(column.is_valid())
    text = _blank_to_null(column)
    try:
        return _np(pc.cast(text, pa.float64())), np.zeros(len(column), dtype=bool)
    except pa.ArrowInvalid:
        strings = pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)
        values = pd.to_numeric(strings, errors="coerce").to_numpy(dtype=np.float64)
        named_nan = _np(pc.fill_null(pc.equal(pc.utf8_lower(text), "nan"), False))
        return values, np.isnan(values) & _np(text.is_valid()) & ~named_nan


def _category(f: Feature, column: pa.Array) -> tuple[pd.Series, np.ndarray, list[Problem]]:
    """Lower-case, trimmed categories as a pandas Categorical; the text work is done once per
    distinct value, and rows carry only codes."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(as_text(column))
    words = _blank_to_null(pc.utf8_lower(as_text(column.dictionary)))
    known = pc.fill_null(pc.is_in(words, value_set=pa.array(f.categories)), True)
    unknown = _np(pc.fill_null(pc.invert(known).take(column.indices), False))
    distinct = pc.unique(words.drop_null())  # "MDD" and "mdd " are one category
    codes = _np(pc.fill_null(pc.index_in(words, value_set=distinct).take(column.indices), -1))
    series = pd.Series(pd.Categorical.from_codes(codes, distinct.to_pylist()), copy=False)
    rule = f"is not one of {', '.join(f.categories)}"
    return series, codes < 0, _problem(f.name, rule, unknown, column)


def _blank_to_null(text: pa.Array) -> pa.Array:
    text = pc.utf8_trim_whitespace(text)
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)


def _np(array: pa.Array) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False)


def error_lines(checked: Checked, *, first_row: int, limit: int) -> list[str]:
    """The first `limit` problems, one line each: row number (1 = first data row), column, rule."""
    found: list[tuple[int, int, str]] = []
    for order, p in enumerate(checked.problems):
        for i in np.flatnonzero(p.mask)[:limit]:
            value = "" if p.values is None else f"{_short(p.values[int(i)].as_py())} "
            found.append(
                (int(i), order, f"row {first_row + i}, column {p.column}: {value}{p.rule}")
            )
    return [line for *_, line in sorted(found)[:limit]]


def _short(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def reasons(checked: Checked) -> pa.Array:
    """Per row, every problem joined by '; ' (null for valid rows), for the rejects file."""
    out = pa.nulls(len(checked.invalid), pa.string())
    for p in checked.problems:
        if p.values is None:
            piece: pa.Array | pa.Scalar = pa.scalar(f"{p.column}: {p.rule}")
        else:
            value = pc.utf8_slice_codeunits(pc.fill_null(p.values, ""), 0, 40)
            piece = pc.binary_join_element_wise(f"{p.column}: '", value, f"' {p.rule}", "")
        joined = pc.binary_join_element_wise(out, piece, "; ")
        out = pc.if_else(p.mask, pc.coalesce(joined, piece), out)
    return out


class SeenIds:
    """The patient ids read so far, as sorted 64-bit hashes (8 bytes a row, not the ids):
    `check` marks each row whose id an earlier row had. Two different ids share a hash with
    odds of about rows**2 / 2**65, one in ten million at five million rows. Ids that rise
    from row to row (and above the chunk before), as a sorted export has them, cannot repeat:
    they are kept as they are, and hashed only if a later chunk does not rise."""

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.uint64)
        self.rising: list[pa.Array] = []

    def check(self, ids: pa.Array) -> np.ndarray:
        """Per row: its (non-missing) id appeared in an earlier row, of this chunk or before."""
        valid = _np(ids.is_valid())
        present = ids if valid.all() else ids.filter(pa.array(valid))
        if self._rises(present):
            return np.zeros(len(ids), dtype=bool)
        if self.rising:
            earlier = pa.concat_arrays(self.rising).to_numpy(zero_copy_only=False)
            self.hashes = np.sort(pd.util.hash_array(earlier, categorize=False))
            self.rising = []
        hashed = pd.util.hash_array(present.to_numpy(zero_copy_only=False), categorize=False)
        ordered = np.sort(hashed)  # repeats are rare: first see whether there is any
        clash = bool(np.any(ordered[1:] == ordered[:-1])) or self._seen(ordered).any()
        if not clash:
            self.hashes = _merged(self.hashes, ordered)
            return np.zeros(len(ids), dtype=bool)
        order = np.argsort(hashed, kind="stable")  # equal ids keep the row order
        ordered = hashed[order]
        first = np.ones(len(ordered), dtype=bool)
        first[1:] = ordered[1:] != ordered[:-1]  # each id's first row in this chunk...
        before = self._seen(ordered)  # ...is a repeat too if an earlier chunk had it
        repeated = ~first | before
        self.hashes = _merged(self.hashes, ordered[first & ~before])
        out = np.zeros(len(ids), dtype=bool)
        out[np.flatnonzero(valid)[order]] = repeated
        return out

    def _rises(self, present: pa.Array) -> bool:
        """Each id above the one before, and above every earlier id (only while all have)."""
        if len(self.hashes) or not len(present):
            return False
        try:
            rises = pc.all(pc.less(present[:-1], present[1:])).as_py() is not False
            if rises and self.rising:
                rises = pc.less(self.rising[-1][-1], present[0]).as_py() is True
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # ids that do not compare
            return False
        if rises:
            self.rising.append(present)
        return rises

    def _seen(self, ordered: np.ndarray) -> np.ndarray:
        """Per sorted hash: an earlier chunk had it."""
        if not len(self.hashes):
            return np.zeros(len(ordered), dtype=bool)
        at = np.minimum(np.searchsorted(self.hashes, ordered), len(self.hashes) - 1)
        return self.hashes[at] == ordered


def _merged(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two sorted runs as one: the stable sort merges them in linear time."""
    return np.sort(np.concatenate([a, b]), kind="stable")
