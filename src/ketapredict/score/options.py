"""What a scoring run is asked to do and what it did; light, so the CLI builds it at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ketapredict.contract import BENEFIT, COMPARATORS, TASKS, AnyTask
from ketapredict.errors import InputFileError

Format = Literal["csv", "parquet"]
TaskChoice = Literal["responder", "relapse", "both", "benefit"]
Comparator = Literal["saline", "midazolam"]
OnInvalid = Literal["fail", "skip"]
OnDuplicate = Literal["flag", "fail"]

CHOSEN_TASKS: dict[TaskChoice, tuple[AnyTask, ...]] = {
    "responder": ("responder",),
    "relapse": ("relapse",),
    "both": TASKS,
    "benefit": (BENEFIT,),
}
SUFFIXES: dict[str, Format] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
# A chunk's rows are held about four times over (text, checked inputs, model matrix, output
# table), about 1 KB a row with --explain: 5 million rows is already some GB.
MAX_CHUNK_ROWS = 5_000_000


def file_format(path: Path, given: Format | None, *, option: str) -> Format:
    """The format named by `option` (--format, --input-format), else by the file's extension."""
    if given is not None:
        return given
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputFileError(
            f"{path}: unknown extension {path.suffix or '(none)'!r}; name it .csv or .parquet, "
            f"or pass {option} csv|parquet"
        )
    return fmt


@dataclass(frozen=True)
class Options:
    """What `ketapredict score` was asked to do (task None: decided from the input's header)."""

    input: Path
    output: Path
    task: TaskChoice | None = None
    model_uris: tuple[str, ...] = ()
    explain: int = 0
    on_invalid: OnInvalid = "fail"
    on_duplicate: OnDuplicate = "flag"
    input_format: Format | None = None
    output_format: Format | None = None
    rejects: Path | None = None
    chunk_rows: int = 100_000
    comparator: Comparator | None = None  # the benefit's; None: saline (with --task benefit)

    @property
    def against(self) -> str:
        """The comparator the benefit is estimated against."""
        return self.comparator or COMPARATORS[0]

    @property
    def tasks(self) -> tuple[AnyTask, ...] | None:
        return None if self.task is None else CHOSEN_TASKS[self.task]

    @property
    def output_fmt(self) -> Format:
        return file_format(self.output, self.output_format, option="--format")

    @property
    def rejects_path(self) -> Path:
        return self.rejects or self.output.with_name(f"{self.output.stem}.rejects.csv")

    @property
    def sidecar_path(self) -> Path | None:
        """CSV output has no room for metadata: it goes to OUTPUT.json beside it."""
        if self.output_fmt != "csv":
            return None
        return self.output.with_name(self.output.name + ".json")


def check(options: Options) -> None:
    """Refuse what cannot work before reading anything: a chunk size out of bounds, or two of
    the input, the output, the rejects file and the sidecar naming one file."""
    if options.comparator is not None and options.task != BENEFIT:
        raise InputFileError(
            f"--comparator {options.comparator}: only the benefit has a comparator; pass "
            "--task benefit, or leave --comparator out"
        )
    if not 1 <= options.chunk_rows <= MAX_CHUNK_ROWS:
        raise InputFileError(
            f"--chunk-size {options.chunk_rows:,}: use 1 to {MAX_CHUNK_ROWS:,} rows (memory grows "
            "with it; the default, 100,000, is as fast)"
        )
    _check_distinct(options)


def _check_distinct(options: Options) -> None:
    """The four files differ after following symlinks and '..': one written over another
    would lose it."""
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


@dataclass
class Summary:
    """What a run read and wrote, for the line the CLI prints and the sidecar."""

    rows_in: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    rows_ood: int = 0
    rows_duplicate: int = 0
    written: list[Path] = field(default_factory=list)
    first_row_seconds: float | None = None

    def line(self) -> str:
        written = ", ".join(str(p) for p in self.written)
        counts = f"{self.rows_scored:,} + rejected {self.rows_rejected:,}"
        duplicates = f"{self.rows_duplicate:,} duplicate patient_id"
        return (
            f"rows in {self.rows_in:,} = scored {counts}; {self.rows_ood:,} flagged ood; "
            f"{duplicates}; wrote {written}"
        )
