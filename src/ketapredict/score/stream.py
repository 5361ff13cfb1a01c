"""The input streamed chunk by chunk: read → validate → predict → write, each in its thread."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ketapredict.contract import BENEFIT, ID
from ketapredict.errors import InputFileError, InputValidationError
from ketapredict.io import atomic_path, write_errors
from ketapredict.score import benefit
from ketapredict.score.models import Prefetch, load_models
from ketapredict.score.options import Options, Summary
from ketapredict.score.predict import (
    Prepared,
    Scorer,
    TreeRunner,
    finish_chunk,
    make_scorer,
    output_schema,
    prepare_chunk,
    score_chunk,
)
from ketapredict.score.read import (
    Kind,
    Source,
    TypedParseError,
    as_text,
    open_source,
    prefetched,
    read_chunks,
)
from ketapredict.score.validate import (
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
from ketapredict.score.write import (
    RejectsWriter,
    TableSink,
    describe,
    output_writer,
    rejects_writer,
    sidecar_text,
)

log = logging.getLogger(__name__)
MAX_ERROR_LINES = 20
Progress = Callable[[int, int], None]


def score_file(
    options: Options, *, fetched: Prefetch, progress: Progress | None, started: float
) -> Summary:
    """Score options.input into options.output, the models taken from `fetched` or their
    folders when the first rows are to be written, so a bad file is refused before any model
    is loaded. Every file appears whole or not at all."""
    source, columns, plan = _open(options)
    with TreeRunner() as trees:
        job = _Job(options, source, columns, plan, fetched, progress, started, trees)
        try:
            return job.stream(fast=True)
        except TypedParseError:  # a value that is not a number: reread, checking each value
            return job.stream(fast=False)


def _open(options: Options) -> tuple[Source, dict[str, str], Plan]:
    """The input's header, matched to the inputs of the tasks it is scored for."""
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
    if BENEFIT in plan.tasks:
        log.info("benefit: ketamine against %s (benefit_comparator)", options.against)
    return source, columns, plan


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

    def stream(self, *, fast: bool) -> Summary:
        """Files are entered so that they are renamed in reverse: the output, the rejects, the
        sidecar; an error before that removes every temporary file."""
        o, summary = self.options, Summary()
        self.seen = SeenIds()
        with ExitStack() as files:
            sidecar = None
            if o.sidecar_path:
                sidecar = files.enter_context(atomic_path(o.sidecar_path, error=InputFileError))
            rejects = None
            if o.on_invalid == "skip":
                inputs = [c for c in self.columns if c != ID]
                rejects = files.enter_context(rejects_writer(o.rejects_path, ID, inputs))
            output = self._loop(files, rejects, summary, fast=fast)
            if summary.rows_in == 0:
                raise InputFileError(f"{o.input}: has a header but no rows; nothing to score")
            if output is None:  # every row rejected: still an output, with its header
                self._open_output(files)
            if sidecar is not None and o.sidecar_path is not None:
                rejected = o.rejects_path if rejects else None
                text = sidecar_text(self.metadata, summary, output=o.output, rejects=rejected)
                with write_errors(o.sidecar_path, InputFileError):
                    sidecar.write_text(text, encoding="utf-8")
        written = [o.output, o.sidecar_path, o.rejects_path if rejects else None]
        summary.written = [p for p in written if p is not None]
        return summary

    def _loop(
        self, files: ExitStack, rejects: RejectsWriter | None, summary: Summary, *, fast: bool
    ) -> TableSink | None:
        """Every chunk through; the output, once opened, is returned."""
        errors, output = _Errors(), None
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
                if output is None:
                    output = self._open_output(files)
                self._score(prepared, output, summary)
            if self.progress is not None:
                self.progress(summary.rows_in, max(self.source.rows, summary.rows_in))
        if errors.count:
            raise InputValidationError(errors.message(self.options.input, summary))
        return output

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
            frame,
            ids,
            self.plan.tasks,
            relapse_ready=ready,
            duplicate=repeated,
            comparator=self.options.against,
        )
        kept = None if valid.all() else batch
        chunk = replace(checked, frame=frame)
        return _Chunk(batch.num_rows, kept, chunk, prepared, int(duplicate.sum()))

    def _score(self, prepared: Prepared, sink: TableSink, summary: Summary) -> None:
        """Predict here, on every core; make the table and write it in the writing thread."""
        if not len(prepared):
            return
        explain, scorers, against = self.options.explain, self.scorers, self.options.against
        predicted = score_chunk(prepared, scorers, explain=explain, trees=self.trees)
        summary.rows_scored += len(prepared)
        summary.rows_ood += int(np.count_nonzero(predicted.ood_bits))

        def make() -> pa.Table:
            return finish_chunk(
                predicted, scorers, explain=explain, schema=sink.schema, comparator=against
            )

        def then(table: pa.Table) -> None:
            if summary.first_row_seconds is None:
                summary.first_row_seconds = time.perf_counter() - self.started
                log.debug("first rows scored at %.3f (epoch seconds)", time.time())

        sink.write_later(make, then)

    def _open_output(self, files: ExitStack) -> TableSink:
        """Load the models, then open the output: its schema and metadata are theirs."""
        self._load()
        o = self.options
        id_type = self.source.type_of(self.columns[ID])
        schema = output_schema(id_type, self.plan.tasks, o.explain)
        return files.enter_context(output_writer(o.output, o.output_fmt, schema, self.metadata))

    def _load(self) -> None:
        """The models (once for all passes) and the metadata that describes them."""
        if not self.scorers:
            o = self.options
            models = load_models(
                self.plan.tasks, o.model_uris, fetched=self.fetched, strict=o.tasks is not None
            )
            self.scorers = [make_scorer(model) for model, _ in models.values()]
            provenance = {task: info for task, (_, info) in models.items()}
            self.metadata = describe(
                input=o.input, tasks=self.plan.tasks, models=provenance, explain=o.explain
            )
            for model, _ in models.values():
                if model.task == BENEFIT:
                    self.metadata["benefit"] = benefit.describe(model, o.against)


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
