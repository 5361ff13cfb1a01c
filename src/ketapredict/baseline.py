"""The logistic baseline every LightGBM model is compared with: its fit, its out-of-fold
predictions on the training procedure's folds, and its file (skops, loaded trusting only the
types such a baseline holds)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ketapredict.errors import ModelError
from ketapredict.io import write_bytes
from ketapredict.train import Procedure, folds


def cross_validated_baseline(
    X: pd.DataFrame, y: np.ndarray, w: np.ndarray, groups: np.ndarray, procedure: Procedure
) -> np.ndarray:
    """Out-of-fold probabilities of the logistic baseline on the training procedure's folds."""
    p = np.zeros(len(y))
    for fit_idx, val_idx in folds(y, groups, n_folds=procedure.cv_folds, seed=procedure.seed):
        model = fit_baseline(X.iloc[fit_idx], y[fit_idx], w[fit_idx])
        p[val_idx] = model.predict_proba(X.iloc[val_idx])[:, 1]
    return p


def fit_baseline(X: pd.DataFrame, y: np.ndarray, w: np.ndarray) -> Pipeline:
    """Logistic regression on all features: median imputation with missing indicators,
    standardisation, mild L2 penalty."""
    pipe = Pipeline(
        [
            (
                "impute",
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            ),
            ("scale", StandardScaler()),
            ("logistic", LogisticRegression(C=1.0, max_iter=2000)),
        ]
    )
    return pipe.fit(X, y, logistic__sample_weight=w)


BASELINE_FILE = "baseline.skops"
# The one type outside skops' own safe defaults that the baseline Pipeline (imputer, scaler,
# logistic regression) holds. Only these are trusted: a file listing anything else is refused
# before any object in it is built, since skops builds whatever types it is told to trust.
BASELINE_TYPES = ("numpy.dtype",)


def save_baseline(pipe: Pipeline, folder: Path) -> None:
    import skops.io

    write_bytes(canonical(skops.io.dumps(pipe)), Path(folder) / BASELINE_FILE)


def canonical(archive: bytes) -> bytes:
    """`archive` (a skops file) with the same content written the same way every time. skops
    names each object by its memory address and stamps the zip with the time; here objects are
    numbered in the order the schema lists them and every member has one fixed date, so the
    same fitted baseline is the same bytes (and DVC sees an unchanged output)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    schema = json.loads(members.pop("schema.json"))
    numbers: dict[int, int] = {}
    arrays: dict[str, bytes] = {}

    def renumber(node: object) -> None:
        if isinstance(node, dict):
            if "__id__" in node:
                node["__id__"] = numbers.setdefault(node["__id__"], len(numbers))
            if isinstance(node.get("file"), str) and node["file"] in members:
                name = f"{node['__id__']}.npy"
                arrays[name] = members[node["file"]]
                node["file"] = name
            for value in node.values():
                renumber(value)
        elif isinstance(node, list):
            for value in node:
                renumber(value)

    renumber(schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        files = {"schema.json": json.dumps(schema, indent=2).encode(), **arrays}
        for name, data in sorted(files.items()):
            target.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def load_baseline(folder: Path) -> Pipeline:
    """The logistic baseline saved beside a candidate model (skops: no pickle). Only the types
    such a baseline holds are trusted; any other type in the file is an error."""
    path = Path(folder) / BASELINE_FILE
    fix = "retrain it (dvc repro train_responder train_relapse)"
    pipe = load_trusted(
        path, BASELINE_TYPES, what="baseline model", holder="a ketapredict baseline", fix=fix
    )
    if not isinstance(pipe, Pipeline):
        raise ModelError(f"{path}: holds a {type(pipe).__name__}, not the baseline; {fix}")
    return pipe


def load_trusted(
    path: Path, allowed: tuple[str, ...], *, what: str, holder: str, fix: str
) -> object:
    """Load a skops file trusting only the `allowed` types (beyond skops' own safe defaults):
    a file listing any other type is refused before any object in it is built, since skops
    builds whatever types it is told to trust. `what` the file holds and `holder` name it in
    the one-line ModelError; `fix` says what to do."""
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: not a readable {what} ({exc}); {fix}") from None
    foreign = sorted(set(untrusted) - set(allowed))
    if foreign:
        raise ModelError(
            f"{path}: holds types {holder} never contains ({', '.join(foreign[:5])}); "
            f"refusing to load it. Delete it and {fix}"
        )
    try:
        return skops.io.load(path, trusted=list(allowed))
    except Exception as exc:  # skops raises many kinds; nothing in it is trusted code
        raise ModelError(f"{path}: not a readable {what} ({exc}); {fix}") from None
