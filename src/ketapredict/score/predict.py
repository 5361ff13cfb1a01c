"""Probabilities, risk bands and out-of-distribution flags of validated rows; no files or MLflow."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from ketapredict.contract import BENEFIT, ID, OUTCOME, PROBABILITY, AnyTask
from ketapredict.features import (
    BENEFIT_DESIGN,
    SCHEMA,
    TRAINED_DOSES,
    Feature,
    build_matrix,
    inputs_of,
)
from ketapredict.score import benefit
from ketapredict.score.reasons import reason_columns, top_reasons

if TYPE_CHECKING:
    from ketapredict.benefit.model import BenefitModel
    from ketapredict.model import KetaModel

BAND_CUTS = (1 / 3, 2 / 3)
BANDS = ("low", "intermediate", "high")
# every raw input, for the ood_inputs bits (the benefit model's design inputs last)
INPUTS = tuple(f.name for f in SCHEMA["relapse"] + BENEFIT_DESIGN)


@dataclass(frozen=True)
class Scorer:
    """A model with what scoring needs beside it: each model column's raw input (one-hot
    columns map to their category input) and the training range of each model column.
    `inputs` are those a reason can name (the benefit model's fixed design inputs are not)."""

    model: KetaModel | BenefitModel
    inputs: tuple[Feature, ...]
    group: np.ndarray  # model columns x inputs, 1 where the column comes from the input
    bit: np.ndarray  # per model column, the position of its input in INPUTS
    low: np.ndarray
    high: np.ndarray
    treatment: _Treatments | None = None

    @property
    def task(self) -> AnyTask:
        return self.model.task  # type: ignore[return-value]


@dataclass(frozen=True)
class _Treatments:
    """Where a row's drug, route and dose sit in the model matrix, and the dose range trained
    on for each drug and route (NaN: never trained on), features.TRAINED_DOSES as arrays."""

    drug: np.ndarray  # model columns of the drug's one-hot categories (reference: none)
    route: np.ndarray
    dose: int
    low: np.ndarray  # drugs x routes, in SCHEMA's category order
    high: np.ndarray
    bits: tuple[np.uint64, np.uint64, np.uint64]  # ood bits of drug, route, dose


def _treatments(features: Sequence[str]) -> _Treatments | None:
    inputs = {f.name: f for f in SCHEMA["responder"]}
    drugs, routes = inputs["drug"].categories, inputs["route"].categories
    try:
        drug = np.array([features.index(f"drug_{c}") for c in drugs[1:]])
        route = np.array([features.index(f"route_{c}") for c in routes[1:]])
        dose = features.index("dose")
    except ValueError:  # a model without the planned treatment: nothing to check
        return None
    low = np.full((len(drugs), len(routes)), np.nan)
    high = low.copy()
    for (d, r), (a, b) in TRAINED_DOSES.items():
        low[drugs.index(d), routes.index(r)], high[drugs.index(d), routes.index(r)] = a, b
    bits = tuple(np.uint64(1) << np.uint64(INPUTS.index(n)) for n in ("drug", "route", "dose"))
    return _Treatments(drug, route, dose, low, high, bits)  # type: ignore[arg-type]


def make_scorer(model: KetaModel | BenefitModel) -> Scorer:
    inputs = benefit.EXPLAINED if model.task == BENEFIT else SCHEMA[model.task]
    names = [f.name for f in inputs]
    owner = [_input_of(column, inputs_of(model.task)) for column in model.features]
    group = np.zeros((len(owner), len(inputs)))
    for column, name in enumerate(owner):
        if name in names:
            group[column, names.index(name)] = 1.0
    bit = np.array([INPUTS.index(name) for name in owner], dtype=np.uint64)
    unknown = (-np.inf, np.inf)
    low = np.array([model.ranges.get(c, unknown)[0] for c in model.features], dtype=np.float64)
    high = np.array([model.ranges.get(c, unknown)[1] for c in model.features], dtype=np.float64)
    return Scorer(model, inputs, group, bit, low, high, _treatments(model.features))


def _input_of(column: str, inputs: Sequence[Feature]) -> str:
    for f in inputs:
        if column == f.name or (f.kind == "category" and column.startswith(f"{f.name}_")):
            return f.name
    raise ValueError(f"model column {column!r} is not derived from any schema input")


def output_schema(id_type: pa.DataType, tasks: Sequence[AnyTask], explain: int) -> pa.Schema:
    """Columns: patient_id, per task its probability and band (benefit: score.benefit.COLUMNS),
    ood and ood_inputs, and with --explain K per task K reasons (sentence, input, value,
    contribution) plus base and rest."""
    fields = [pa.field(ID, id_type)]
    for t in tasks:
        if t == BENEFIT:
            fields += [pa.field(name, kind) for name, kind in benefit.COLUMNS.items()]
            continue
        fields += [
            pa.field(PROBABILITY[t], pa.float64()),
            pa.field(f"{OUTCOME[t]}_band", pa.string()),
        ]
    fields += [pa.field("ood", pa.bool_()), pa.field("ood_inputs", pa.string())]
    fields.append(pa.field("duplicate_id", pa.bool_()))
    for t in tasks if explain else ():
        for name in reason_columns(t, explain):
            numeric = name.endswith(("logodds", "contribution", "_base", "_other"))
            kind = pa.float64() if numeric else pa.string()
            fields.append(pa.field(name, kind))
    return pa.schema(fields)


@dataclass(frozen=True)
class Prepared:
    """A chunk's valid rows, with each task's model matrix built (in the reading thread, so
    the scoring thread only predicts). `rows` marks the rows a task scores (None: all);
    `duplicate` the rows whose patient_id an earlier row of the input had."""

    frame: pd.DataFrame
    ids: pa.Array
    matrices: dict[AnyTask, tuple[np.ndarray | None, np.ndarray]]
    duplicate: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)


def prepare_chunk(
    frame: pd.DataFrame,
    ids: pa.Array,
    tasks: Sequence[AnyTask],
    *,
    relapse_ready: np.ndarray,
    duplicate: np.ndarray,
    comparator: str,
) -> Prepared:
    """The model matrices of valid rows; p_relapse only where `relapse_ready`; the benefit
    against `comparator`."""
    matrices: dict[AnyTask, tuple[np.ndarray | None, np.ndarray]] = {}
    for task in tasks:
        if task == BENEFIT:
            matrices[task] = None, benefit.benefit_matrix(frame, comparator)
            continue
        rows = None if task == "responder" or relapse_ready.all() else relapse_ready
        matrices[task] = rows, build_matrix(frame if rows is None else frame[rows], task)
    return Prepared(frame, ids, matrices, duplicate)


class TreeRunner:
    """LightGBM predictions split into row slices on a pool of one thread per core, each slice
    single-threaded. Slices go to whichever core is free, so the reading and writing threads
    never leave a core waiting at an OpenMP barrier. Rows are independent: the values equal
    one call's, bit for bit."""

    SLICE_ROWS = 8_192

    def __init__(self) -> None:
        self.cores = len(os.sched_getaffinity(0))
        self.pool = ThreadPoolExecutor(
            max_workers=self.cores, thread_name_prefix="ketapredict-trees"
        )

    def __enter__(self) -> TreeRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def raw_score(self, model: KetaModel | BenefitModel, X: np.ndarray) -> np.ndarray:
        return self._split(model.raw_score, X, np.empty(len(X)))

    def contributions(self, model: KetaModel | BenefitModel, X: np.ndarray) -> np.ndarray:
        return self._split(model.contributions, X, np.empty((len(X), X.shape[1] + 1)))

    def _split(
        self, predict: Callable[..., np.ndarray], X: np.ndarray, out: np.ndarray
    ) -> np.ndarray:
        if self.cores == 1 or len(X) <= self.SLICE_ROWS:
            out[:] = predict(X)
            return out

        def run(start: int) -> None:
            rows = slice(start, start + self.SLICE_ROWS)
            out[rows] = predict(X[rows], threads=1)

        for _ in self.pool.map(run, range(0, len(X), self.SLICE_ROWS)):
            pass
        return out


@dataclass(frozen=True)
class Predicted:
    """What the writing thread needs of a chunk: ids, each task's scored rows and log-odds, the
    ood bits, and with --explain the contributions and inputs (the matrices are let go)."""

    ids: pa.Array
    rows: dict[AnyTask, np.ndarray | None]
    raw: dict[AnyTask, np.ndarray]
    ood_bits: np.ndarray
    contributions: dict[AnyTask, np.ndarray]
    frame: pd.DataFrame | None
    duplicate: np.ndarray


def score_chunk(
    prepared: Prepared, scorers: Sequence[Scorer], *, explain: int, trees: TreeRunner
) -> Predicted:
    """The trees' share of the work, on every core: each task's log-odds, from the
    contributions (which add up to them: one pass over the trees) when `explain`."""
    raw, contributions, rows = {}, {}, {}
    ood_bits = np.zeros(len(prepared), dtype=np.uint64)
    for scorer in scorers:
        rows[scorer.task], X = prepared.matrices[scorer.task]
        if explain:
            contributions[scorer.task] = trees.contributions(scorer.model, X)
            raw[scorer.task] = contributions[scorer.task].sum(axis=1)
        else:
            raw[scorer.task] = trees.raw_score(scorer.model, X)
        where = rows[scorer.task]
        ood_bits[slice(None) if where is None else where] |= _ood_bits(scorer, X)
    frame = prepared.frame if explain else None
    return Predicted(prepared.ids, rows, raw, ood_bits, contributions, frame, prepared.duplicate)


def finish_chunk(
    predicted: Predicted,
    scorers: Sequence[Scorer],
    *,
    explain: int,
    schema: pa.Schema,
    comparator: str,
) -> pa.Table:
    """Probabilities (benefit: estimates), bands, ood flags and, with `explain`, reasons: one
    table of `schema`."""
    columns: dict[str, pa.Array] = {ID: predicted.ids}
    reasons: dict[str, pa.Array] = {}
    for scorer in scorers:
        rows, raw = predicted.rows[scorer.task], predicted.raw[scorer.task]
        if explain and predicted.frame is not None:
            frame = predicted.frame if rows is None else predicted.frame[rows]
            if scorer.task == BENEFIT:
                frame = benefit.with_comparator(frame, comparator)
            contributions = predicted.contributions[scorer.task]
            explained = top_reasons(
                frame,
                contributions,
                raw,
                k=explain,
                task=scorer.task,
                inputs=scorer.inputs,
                group=scorer.group,
            )
            reasons.update({k: _expand(v, rows) for k, v in explained.items()})
        if scorer.task == BENEFIT:
            columns.update(benefit.columns(scorer.model, raw, comparator))  # type: ignore[arg-type]
            continue
        p = scorer.model.calibrate(raw)  # type: ignore[union-attr]
        columns[PROBABILITY[scorer.task]] = _expand(pa.array(p), rows)
        columns[f"{OUTCOME[scorer.task]}_band"] = _expand(band(p), rows)
    columns["ood"] = pa.array(predicted.ood_bits != 0)
    columns["ood_inputs"] = _ood_names(predicted.ood_bits)
    columns["duplicate_id"] = pa.array(predicted.duplicate)
    columns.update(reasons)
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def band(p: np.ndarray) -> pa.Array:
    """low below 1/3, intermediate from 1/3 to below 2/3, high from 2/3."""
    return pa.array(BANDS, pa.string()).take(np.digitize(p, BAND_CUTS))


def _ood_bits(scorer: Scorer, X: np.ndarray) -> np.ndarray:
    """Per row, one bit (position in INPUTS) per raw input outside the training range; a
    category never seen in training sets its one-hot column outside [0, 0]; a drug and route
    each seen, but never together, set both; a dose outside its drug and route's range sets
    `dose`."""
    bits = np.zeros(len(X), dtype=np.uint64)
    if len(X):  # each column's least and greatest value first (NaN left out): most are in range
        low, high = np.fmin.reduce(X, axis=0), np.fmax.reduce(X, axis=0)
        for column in np.flatnonzero((low < scorer.low) | (high > scorer.high)):
            values = X[:, column]
            outside = (values < scorer.low[column]) | (values > scorer.high[column])
            bits[outside] |= np.uint64(1) << scorer.bit[column]
    if scorer.treatment is not None:
        bits |= _treatment_bits(scorer.treatment, X, bits)
    return bits


def _treatment_bits(t: _Treatments, X: np.ndarray, flagged: np.ndarray) -> np.ndarray:
    bits = np.zeros(len(X), dtype=np.uint64)
    drug = X[:, t.drug] @ np.arange(1, len(t.drug) + 1)  # 0: the reference category
    route = X[:, t.route] @ np.arange(1, len(t.route) + 1)
    known = ~(np.isnan(drug) | np.isnan(route))
    d, r = np.where(known, drug, 0).astype(np.intp), np.where(known, route, 0).astype(np.intp)
    low, high, dose = t.low[d, r], t.high[d, r], X[:, t.dose]
    pair = t.bits[0] | t.bits[1]
    untrained = known & np.isnan(low)
    with np.errstate(invalid="ignore"):
        off = known & ~untrained & ((dose < low) | (dose > high))
    bits[untrained & ((flagged & pair) == 0)] |= pair  # an unseen category already says it
    bits[off] |= t.bits[2]
    return bits


def _ood_names(bits: np.ndarray) -> pa.Array:
    """'' for rows in range, else the raw inputs outside the training range joined by ';'."""
    flagged = np.flatnonzero(bits)
    index = np.zeros(len(bits), dtype=np.int64)
    codes: np.ndarray = np.zeros(0, dtype=np.uint64)
    if len(flagged):
        codes, inverse = np.unique(bits[flagged], return_inverse=True)
        index[flagged] = inverse.reshape(-1) + 1
    names = [""] + [";".join(n for i, n in enumerate(INPUTS) if int(c) >> i & 1) for c in codes]
    return pa.array(names, pa.string()).take(index)


def _expand(values: pa.Array, rows: np.ndarray | None) -> pa.Array:
    """Values of the scored rows spread over all rows, null where a row was not scored."""
    if rows is None:
        return values
    index = np.full(len(rows), -1)
    index[rows] = np.arange(len(values))
    return values.take(pa.array(index, mask=index < 0))
