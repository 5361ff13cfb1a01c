"""Inputs `ketapredict score` must refuse: each case writes its input into a folder and
returns the CLI arguments, the message and the exit code expected."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from tests.score.helpers import as_csv, put, treat


def _raw(name: str, data: bytes) -> Callable[[Path, Path], list[str]]:
    def make(project: Path, src: Path) -> list[str]:
        (src / name).write_bytes(data)
        return [str(src / name)]

    return make


def _rows(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path, Path], list[str]]:
    return lambda project, src: [str(as_csv(project, src, edit))]


def _no_registry(project: Path, src: Path) -> list[str]:
    """A project (params.yaml) that has not trained: no mlflow.db."""
    shutil.copy(project / "params.yaml", src / "params.yaml")
    return [str(as_csv(project, src)), "--root", str(src)]


def _ragged(project: Path, src: Path) -> list[str]:
    path = as_csv(project, src)
    with path.open("a") as fh:
        fh.write("99,1,2\n")
    return [str(path)]


def _model(kind: str) -> Callable[[Path, Path], list[str]]:
    def make(project: Path, src: Path) -> list[str]:
        folder = src / "model"
        if kind == "wrong_task":
            return [
                str(as_csv(project, src)),
                "--task",
                "responder",
                "--model-uri",
                str(project / "models" / "relapse"),
            ]
        if kind == "foreign":
            folder.mkdir()
            (folder / "MLmodel").write_text("flavors:\n  sklearn:\n    pickled_model: model.pkl\n")
        if kind == "unknown_alias":
            return [
                str(as_csv(project, src)),
                "--model-uri",
                "models:/ketapredict-responder@nope",
            ]
        if kind in ("schema", "empty model.json", "pickled npy", "latin-1 MLmodel"):
            shutil.copytree(project / "models" / "responder", folder)
            inner = folder / "artifacts" / "lightgbm"
        if kind == "schema":
            meta = json.loads((inner / "model.json").read_text())
            meta["features"] = meta["features"][:-1]
            (inner / "model.json").write_text(json.dumps(meta))
        if kind == "empty model.json":
            (inner / "model.json").write_text("{}")
        if kind == "pickled npy":
            np.save(inner / "seen_rows.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
        if kind == "latin-1 MLmodel":
            text = (folder / "MLmodel").read_text() + "# Zárate\n"
            (folder / "MLmodel").write_bytes(text.encode("latin-1"))
        if kind == "remote":
            return [str(as_csv(project, src)), "--model-uri", "http://example.org/model"]
        return [str(as_csv(project, src)), "--model-uri", str(folder)]

    return make


def _same_output(project: Path, src: Path) -> list[str]:
    path = as_csv(project, src)
    return [str(path), "-o", str(path)]


def _clash(kind: str) -> Callable[[Path, Path], list[str]]:
    """Two of input, output, rejects file and sidecar named as one file."""

    def make(project: Path, src: Path) -> list[str]:
        data, out = as_csv(project, src), src.parent / "out"
        if kind == "rejects is output":
            return [str(data), "-o", str(out / "s.csv"), "--on-invalid", "skip",
                    "--rejects", str(out / "x" / ".." / "s.csv")]  # fmt: skip
        if kind == "rejects is sidecar":
            return [str(data), "-o", str(out / "s.csv"), "--rejects", str(out / "s.csv.json")]
        (src / "link.csv").symlink_to(data)  # the output is the input, through a symlink
        return [str(data), "-o", str(src / "link.csv")]

    return make


def _unwritable(where: str) -> Callable[[Path, Path], list[str]]:
    def make(project: Path, src: Path) -> list[str]:
        data = as_csv(project, src)
        if where == "under a file":
            return [str(data), "-o", str(data / "scores.csv")]
        if where == "read-only":
            return [str(data), "-o", "/sys/kernel/ketapredict-scores.csv"]
        return [str(data), "-o", str(src.parent / "out" / "s.csv"), "--model-uri",
                "models/responder"]  # fmt: skip

    return make


def _garbage_registry(project: Path, src: Path) -> list[str]:
    shutil.copy(project / "params.yaml", src / "params.yaml")  # a project, run in its folder
    (src / "mlflow.db").write_bytes(bytes(range(256)) * 8)
    return [str(as_csv(project, src))]


def _folder_output(project: Path, src: Path) -> list[str]:
    (src / "scores.csv").mkdir()
    return [str(as_csv(project, src)), "-o", str(src / "scores.csv")]


UTF8 = "patient_id,age\n1,30\n"
LATIN1 = "patient_id,diagnosis\n1,dépression\n".encode("latin-1")
WRONG_TASK = "is a relapse model, but this run scores responder"
NOWHERE = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
SECRET = "s3cret"
WITH_PASSWORD = {"MLFLOW_TRACKING_URI": f"http://alice:{SECRET}@127.0.0.1:9"}


class Case(NamedTuple):
    make: Callable[[Path, Path], list[str]]  # writes the input into a folder, returns the args
    message: str
    code: int = 2
    env: dict[str, str] | None = None
    in_input_folder: bool = False  # run there (no project, no registry) instead of the project
    file_size_limit: int | None = None

    @property
    def own_process(self) -> bool:
        """The registry download runs in a child process that does not see an environment set
        later; a file size limit would hold for the test run too."""
        return bool(self.env) or self.file_size_limit is not None


BAD_INPUTS: dict[str, Case] = {
    "empty file": Case(_raw("p.csv", b""), "the file is empty"),
    "blank lines only": Case(_raw("p.csv", b"\n \n"), "the file is empty"),
    "header only": Case(_rows(lambda f: f.head(0)), "has a header but no rows"),
    "not found": Case(lambda p, s: [str(s / "nope.csv")], "file not found"),
    "a directory": Case(lambda p, s: [str(s)], "is a directory"),
    "utf-16": Case(_raw("p.csv", UTF8.encode("utf-16")), "UTF-16"),
    "latin-1": Case(_raw("p.csv", LATIN1), "not valid UTF-8"),
    "unknown extension": Case(_raw("p.xlsx", b"x"), "unknown extension '.xlsx'"),
    "corrupt parquet": Case(_raw("p.parquet", UTF8.encode()), "not a readable Parquet"),
    "ragged csv": Case(_ragged, "malformed CSV"),
    "no patient_id": Case(_rows(lambda f: f.drop(columns="patient_id")), "no patient_id"),
    "semicolons": Case(_raw("p.csv", b"patient_id;age\n1;30\n"), "separated by ';'"),
    "missing column": Case(_rows(lambda f: f.drop(columns="dose")), "column(s): dose"),
    "out of range": Case(_rows(put(3, "age", 150)), "row 3, column age: '150' is outside 18"),
    "not a number": Case(_rows(put(4, "bmi", "fat")), "row 4, column bmi: 'fat' is not a"),
    "unknown category": Case(_rows(put(2, "diagnosis", "flu")), "not one of mdd, bipolar"),
    "flag not 0/1": Case(_rows(put(5, "female", 2)), "row 5, column female: '2' is not 0 or"),
    "value missing": Case(_rows(put(6, "dose", None)), "row 6, column dose: missing (required"),
    "IV dose in mg": Case(
        _rows(treat(3, "ketamine", "iv", 50)),
        "row 3, column dose: '50' is not a possible IV dose: more than 5 mg/kg per session",
    ),
    "intranasal 250 mg": Case(
        _rows(treat(4, "esketamine", "intranasal", 250)),
        "row 4, column dose: '250' is not a possible intranasal dose: more than 200 mg",
    ),
    "markup in a value": Case(_rows(put(2, "drug", "[/x]")), "row 2, column drug: '[/x]' is not"),
    "output over input": Case(_same_output, "would overwrite the input"),
    "output is a folder": Case(_folder_output, "exists and is not a file"),
    "rejects over output": Case(_clash("rejects is output"), "would overwrite the output"),
    "rejects over sidecar": Case(_clash("rejects is sidecar"), "would overwrite the sidecar"),
    "output is a symlink to the input": Case(_clash("symlink"), "would overwrite the input"),
    "model of the wrong task": Case(_model("wrong_task"), WRONG_TASK, 1),
    "not a ketapredict model": Case(_model("foreign"), "not a ketapredict one", 1),
    "model schema mismatch": Case(_model("schema"), "do not match this version's responder", 1),
    "not in the registry": Case(_model("unknown_alias"), "not found in the registry", 1),
    "registry unreachable": Case(_rows(lambda f: f), "127.0.0.1:9 unreachable", 1, NOWHERE),
    "no project here": Case(_rows(lambda f: f), "no ketapredict project here", 1, None, True),
    "no registry in the project": Case(_no_registry, "no MLflow registry at", 1),
    "output folder is a file": Case(_unwritable("under a file"), "cannot be written"),
    "read-only file system": Case(_unwritable("read-only"), "cannot be written"),
    "disk full while writing": Case(
        _unwritable("full"), "cannot be written (File too large)", file_size_limit=600
    ),
    "model.json is {}": Case(_model("empty model.json"), "'task' is missing", 1),
    "pickled seen_rows.npy": Case(_model("pickled npy"), "not a plain array", 1),
    "non-UTF-8 MLmodel": Case(_model("latin-1 MLmodel"), "not a ketapredict one", 1),
    "garbage mlflow.db": Case(_garbage_registry, "not an MLflow database?", 1, None, True),
    "http model URI": Case(_model("remote"), "http://example.org/model: not fetched", 1),
    "chunk size 10**12": Case(
        lambda p, s: [str(as_csv(p, s)), "--chunk-size", str(10**12)], "use 1 to 5,000,000 rows"
    ),
    "registry URI with a password": Case(
        _rows(lambda f: f), "http://***@127.0.0.1:9 unreachable", 1, WITH_PASSWORD
    ),
}
