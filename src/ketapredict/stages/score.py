"""`ketapredict score`: check the input's header, stream its rows through validation and
scoring, and write the output, the rejects and the sidecar as temporary files renamed only
at the end. Models are loaded when the first valid chunk needs them, so a bad file is refused
before any model is fetched."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from ketapredict import RESEARCH_NOTICE, __version__
from ketapredict.contract import Task
from ketapredict.errors import InputFileError, InputValidationError, redact
from ketapredict.io import atomic_path, write_errors
from ketapredict.score import (
    BAND_CUTS,
    Prepared,
    Scorer,
    TreeRunner,
    finish_chunk,
    make_scorer,
    output_schema,
    prepare_chunk,
    score_chunk,
)
from ketapredict.score_io import (
    Kind,
    Source,
    TypedParseError,
    as_text,
    file_format,
    open_source,
    prefetched,
    read_chunks,
)
from ketapredict.score_models import Prefetch, load_models, prefetch_uris
from ketapredict.score_validation import (
    ID,
    Checked,
    Plan,
    Problem,
    SeenIds,
    check_chunk,
    default_tasks,
    error_lines,
    make_plan,
    match_columns,
    reasons,
)
from ketapredict.score_write import RejectsWriter, TableSink, rejects_writer, table_writer

log = logging.getLogger(__name__)
MAX_ERROR_LINES = 20
# A chunk's rows are held about four times over (text, checked inputs, model matrix, output
# table), about 1 KB a row with --explain: 5 million rows is already some GB.
MAX_CHUNK_ROWS = 5_000_000
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Options:
    """What `ketapredict score` was asked to do (tasks None: decided from the input's header)."""

    input: Path
    output: Path
    tasks: tuple[Task, ...] | None = None
    model_uris: tuple[str, ...] = ()
    explain: int = 0
    on_invalid: Literal["fail", "skip"] = "fail"
    on_duplicate: Literal["flag", "fail"] = "flag"
    input_format: str | None = None
    output_format: str | None = None
    rejects: Path | None = None
    chunk_rows: int = 100_000

    @property
    def rejects_path(self) -> Path:
        return self.rejects or self.output.with_name(f"{self.output.stem}.rejects.csv")

    @property
    def sidecar_path(self) -> Path | None:
        """CSV output has no room for metadata: it goes to OUTPUT.json beside it."""
        fmt = file_format(self.output, self.output_format, option="--format")
        return self.output.with_name(self.output.name + ".json") if fmt == "csv" else None


@dataclass
class Summary:
    rows_in: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    rows_ood: int = 0
    rows_duplicate: int = 0
    written: list[Path] = field(default_factory=list)
    first_row_seconds: float | None = None


def run(
    options: Options,
    *,
    root: Path,
    progress: Progress | None = None,
    fetched: Prefetch | None = None,
) -> Summary:
    """Score options.input into options.output; every file appears whole or not at all.
    `fetched`: registry downloads already under way (the CLI starts them first thing)."""
    started = time.perf_counter()
    with ExitStack() as stack:
        if fetched is None:
            uris = prefetch_uris(options.tasks, options.model_uris)
            fetched = stack.enter_context(Prefetch(uris, root=root))
        source, columns, plan = _prepare(options)
        trees = stack.enter_context(TreeRunner())
        job = _Job(options, source, columns, plan, fetched, progress, started, trees)
        try:
            return job.stream(fast=True)
        except TypedParseError:  # a value that is not a number: reread, checking each value
            return job.stream(fast=False)
    raise AssertionError("unreachable")  # for type checkers: the block returns or raises


def _prepare(options: Options) -> tuple[Source, dict[str, str], Plan]:
    if not 1 <= options.chunk_rows <= MAX_CHUNK_ROWS:
        raise InputFileError(
            f"--chunk-size {options.chunk_rows:,}: use 1 to {MAX_CHUNK_ROWS:,} rows (memory grows "
            "with it; the default, 100,000, is as fast)"
        )
    _check_distinct(options)
    source = open_source(options.input, options.input_format)
    plan = make_plan(options.tasks or default_tasks(source.names))
    columns, unknown = match_columns(source.names, plan)
    if unknown:
        shown = ", ".join(unknown[:8]) + (", ..." if len(unknown) > 8 else "")
        log.warning("ignoring %d column(s) the models do not use: %s", len(unknown), shown)
    absent = [f.name for f in plan.features if f.name not in columns]
    if absent:
        log.info("optional column(s) not in the input, treated as missing: %s", ", ".join(absent))
    log.info("scoring %s with the %s model(s)", options.input, " and ".join(plan.tasks))
    return source, columns, plan


def _check_distinct(options: Options) -> None:
    """The input, the output, the rejects file and the sidecar are four different files (after
    following symlinks and '..'): one written over another would lose it."""
    rejects = options.rejects_path if options.on_invalid == "skip" or options.rejects else None
    roles = {"output": options.output, "sidecar": options.sidecar_path, "rejects file": rejects}
    seen: dict[Path, str] = {options.input.resolve(): "input"}
    for role, path in roles.items():
        if path is None:
            continue
        if path.exists() and not path.is_file():
            raise InputFileError(f"{path}: exists and is not a file; choose a file name")
        for other, other_role in seen.items():
            if path.resolve() == other or (path.exists() and _same_file(path, other)):
                if other_role == "input":
                    raise InputFileError(f"{path}: would overwrite the input; choose another name")
                raise InputFileError(
                    f"{path}: the {role} would overwrite the {other_role}; give each its own name "
                    "(-o, --rejects)"
                )
        seen[path.resolve()] = role


def _same_file(path: Path, other: Path) -> bool:
    try:
        return other.exists() and path.samefile(other)
    except OSError:
        return False


def _metadata(options: Options, plan: Plan, models: dict[Task, dict[str, Any]]) -> dict[str, Any]:
    low, high = BAND_CUTS
    return {
        "notice": RESEARCH_NOTICE,
        "ketapredict_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": str(options.input),
        "tasks": list(plan.tasks),
        "models": models,
        "risk_bands": {
            "low": f"p < {low:.4g}",
            "intermediate": f"{low:.4g} <= p < {high:.4g}",
            "high": f"p >= {high:.4g}",
        },
        "ood": "an input outside the model's training range (min-max), a category the model "
        "never saw in training, a drug and route never trained on together, or a dose outside "
        "the range trained on for its drug and route; ood_inputs names them",
        "duplicate_id": "the row's patient_id appeared in an earlier row of the input",
        "explain": options.explain,
        "logodds": "TreeSHAP contributions, log-odds; base + reasons + other = the model's "
        "log-odds before calibration",
    }


@dataclass
class _Job:
    """Passes over the input (a second one only if the fast CSV parse meets a non-number)."""

    options: Options
    source: Source
    columns: dict[str, str]
    plan: Plan
    fetched: Prefetch
    progress: Progress | None
    started: float
    trees: TreeRunner
    scorers: list[Scorer] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    seen: SeenIds = field(default_factory=SeenIds)  # the reading thread's, per pass
    rows_read: int = 0

    def stream(self, *, fast: bool) -> Summary:
        """Files are entered so that they are renamed in reverse: the output, the rejects, the
        sidecar; an error before that removes every temporary file."""
        o, summary = self.options, Summary()
        self.seen, self.rows_read = SeenIds(), 0
        with ExitStack() as files:
            sidecar = None
            if o.sidecar_path:
                sidecar = files.enter_context(atomic_path(o.sidecar_path, error=InputFileError))
            rejects = None
            if o.on_invalid == "skip":
                inputs = [c for c in self.columns if c != ID]
                rejects = files.enter_context(rejects_writer(o.rejects_path, ID, inputs))
            output = _LazyOutput(self, files)
            self._loop(output, rejects, summary, fast=fast)
            if summary.rows_in == 0:
                raise InputFileError(f"{o.input}: has a header but no rows; nothing to score")
            output.sink()  # every row rejected: still an output, with its header
            if sidecar is not None and o.sidecar_path is not None:
                with write_errors(o.sidecar_path, InputFileError):
                    sidecar.write_text(self._sidecar_text(summary), encoding="utf-8")
        written = [o.output, o.sidecar_path, o.rejects_path if rejects else None]
        summary.written = [p for p in written if p is not None]
        return summary

    def _loop(
        self, output: _LazyOutput, rejects: RejectsWriter | None, summary: Summary, *, fast: bool
    ) -> None:
        errors = _Errors()
        kinds = _kinds(self.plan)
        chunks = read_chunks(
            self.source, self.columns, self.options.chunk_rows, kinds=kinds, fast=fast
        )
        for chunk in prefetched(self._check(b) for b in chunks):
            checked, prepared = chunk.checked, chunk.prepared
            first_row = summary.rows_in + 1
            summary.rows_in += chunk.rows
            summary.rows_rejected += int(checked.invalid.sum())
            summary.rows_duplicate += chunk.duplicates
            if chunk.batch is not None and rejects is None:
                errors.add(checked, first_row)
            elif chunk.batch is not None and rejects is not None:
                rejects(chunk.batch, first_row, checked.invalid, reasons(checked))
            if not errors.count:
                self._score(prepared, output.sink(), summary)
            if self.progress is not None:
                self.progress(summary.rows_in, max(self.source.rows, summary.rows_in))
        if errors.count:
            raise InputValidationError(errors.message(self.options.input, summary))

    def _check(self, batch: pa.RecordBatch) -> _Chunk:
        """Check a chunk and build the model matrices of its valid rows: the reading thread's
        share of the work. The parsed batch is kept only if some row is invalid."""
        checked = check_chunk(batch, self.plan)
        duplicate = self.seen.check(checked.ids)
        if self.options.on_duplicate == "fail" and duplicate.any():
            rule = "repeats an earlier row's patient_id (--on-duplicate fail)"
            found = Problem(ID, rule, duplicate, as_text(checked.ids))
            checked = replace(
                checked, problems=[*checked.problems, found], invalid=checked.invalid | duplicate
            )
        frame, ids, ready = checked.frame, checked.ids, checked.relapse_ready
        valid, repeated = ~checked.invalid, duplicate
        if not valid.all():
            frame, ids, ready = frame[valid], ids.filter(valid), ready[valid]
            repeated = duplicate[valid]
        prepared = prepare_chunk(
            frame, ids, self.plan.tasks, relapse_ready=ready, duplicate=repeated
        )
        kept = None if valid.all() else batch
        chunk = replace(checked, frame=frame)
        return _Chunk(batch.num_rows, kept, chunk, prepared, int(duplicate.sum()))

    def _score(self, prepared: Prepared, sink: TableSink, summary: Summary) -> None:
        """Predict here, on every core; make the table and write it in the writing thread."""
        if not len(prepared):
            return
        explain, scorers = self.options.explain, self.scorers
        predicted = score_chunk(prepared, scorers, explain=explain, trees=self.trees)
        summary.rows_scored += len(prepared)
        summary.rows_ood += int(np.count_nonzero(predicted.ood_bits))

        def make() -> pa.Table:
            return finish_chunk(predicted, scorers, explain=explain, schema=sink.schema)

        def then(table: pa.Table) -> None:
            if summary.first_row_seconds is None:
                summary.first_row_seconds = time.perf_counter() - self.started
                log.debug("first rows scored at %.3f (epoch seconds)", time.time())

        sink.write_later(make, then)

    def load(self) -> None:
        """The models (once for all passes) and the metadata that describes them."""
        if not self.scorers:
            o = self.options
            models = load_models(
                self.plan.tasks, o.model_uris, fetched=self.fetched, strict=o.tasks is not None
            )
            self.scorers = [make_scorer(model) for model, _ in models.values()]
            provenance = {task: info for task, (_, info) in models.items()}
            self.metadata = _metadata(self.options, self.plan, provenance)

    def _sidecar_text(self, summary: Summary) -> str:
        o = self.options
        rows = {"in": summary.rows_in, "scored": summary.rows_scored}
        rows.update(rejected=summary.rows_rejected, out_of_distribution=summary.rows_ood)
        rows["duplicate_id"] = summary.rows_duplicate
        data = {**self.metadata, "output": str(o.output), "rows": rows}
        if o.on_invalid == "skip":
            data["rejects"] = str(o.rejects_path)
        return redact(json.dumps(data, indent=2, default=str)) + "\n"


class _LazyOutput:
    """The output file, opened (and the models loaded) when the first rows are to be written."""

    def __init__(self, job: _Job, files: ExitStack) -> None:
        self.job, self.files = job, files
        self._sink: TableSink | None = None

    def sink(self) -> TableSink:
        if self._sink is None:
            job, o = self.job, self.job.options
            job.load()
            id_type = job.source.type_of(job.columns[ID])
            schema = output_schema(id_type, job.plan.tasks, o.explain)
            fmt = file_format(o.output, o.output_format, option="--format")
            meta = {"ketapredict": redact(json.dumps(job.metadata, default=str))}
            tmp = self.files.enter_context(atomic_path(o.output, error=InputFileError))
            writer = table_writer(tmp, fmt, schema, metadata=meta, shown=o.output)
            self._sink = self.files.enter_context(writer)
        return self._sink


def _kinds(plan: Plan) -> dict[str, Kind]:
    kinds: dict[str, Kind] = {ID: "text"}
    kinds.update({f.name: "category" if f.kind == "category" else "number" for f in plan.features})
    return kinds


@dataclass(frozen=True)
class _Chunk:
    """One chunk between the reading thread and the scoring one; `batch` (the rows as read)
    only when some are invalid, for the error lines or the rejects file."""

    rows: int
    batch: pa.RecordBatch | None
    checked: Checked
    prepared: Prepared
    duplicates: int  # rows whose patient_id an earlier row had


@dataclass
class _Errors:
    """In fail mode: the first MAX_ERROR_LINES problems as lines, and how many there were."""

    lines: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, checked: Checked, first_row: int) -> None:
        self.count += sum(int(p.mask.sum()) for p in checked.problems)
        room = MAX_ERROR_LINES - len(self.lines)
        if room > 0:
            self.lines += error_lines(checked, first_row=first_row, limit=room)

    def message(self, path: Path, summary: Summary) -> str:
        more = self.count - len(self.lines)
        shown = "\n".join(f"  {line}" for line in self.lines)
        return (
            f"{summary.rows_rejected:,} of {summary.rows_in:,} rows in {path} break the input "
            "schema; nothing was written. Fix them, or pass --on-invalid skip to score the valid "
            f"rows and write the others to a rejects file:\n{shown}"
            + (f"\n  ... and {more:,} more" if more else "")
        )
