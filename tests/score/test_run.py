"""`ketapredict score` end to end: the real CLI (in this process where a process of its own
adds nothing) against champions registered in a temporary SQLite MLflow."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from ketapredict import RESEARCH_NOTICE
from ketapredict.features import SCHEMA, build_features, raw_columns
from ketapredict.model import load_model
from tests.helpers import env, mlflow_models_predict
from tests.score.bad_inputs import BAD_INPUTS, SECRET, Case
from tests.score.helpers import (
    LOCAL,
    Ran,
    as_csv,
    patients,
    put,
    score,
    score_process,
    treat,
)

pytestmark = pytest.mark.slow


def champion(project: Path, task: str) -> tuple[str, str]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    mv = client.get_model_version_by_alias(f"ketapredict-{task}", "champion")
    return str(mv.version), mv.run_id


@pytest.fixture(scope="module")
def refusals(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Ran | subprocess.CompletedProcess[str], Path]]:
    """Every bad-input case through the CLI: those that need a process of their own a few at a
    time, then the others in this process, one after another."""

    def prepare(name: str) -> tuple[Case, Path, list[str], Path]:
        case = BAD_INPUTS[name]
        src = tmp_path_factory.mktemp("bad") / "in"
        src.mkdir()
        args, out = case.make(project, src), src.parent / "out"
        args += [] if "-o" in args else ["-o", str(out / "scores.csv")]
        return case, src if case.in_input_folder else project, args, out

    def apart(name: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        case, where, args, out = prepared[name]
        limit = case.file_size_limit
        return score_process(where, *args, file_size_limit=limit, **(case.env or {})), out

    prepared = {name: prepare(name) for name in BAD_INPUTS}
    alone = [name for name, case in BAD_INPUTS.items() if case.own_process]
    with ThreadPoolExecutor(max_workers=3) as pool:
        ran: dict[str, tuple[Ran | subprocess.CompletedProcess[str], Path]] = dict(
            zip(alone, pool.map(apart, alone), strict=True)
        )
    for name, (_, where, args, out) in prepared.items():
        if name not in ran:
            ran[name] = score(where, *args), out
    return ran


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_refused_and_leaves_nothing(refusals: dict[str, tuple], case: str) -> None:
    result, out = refusals[case]
    assert result.returncode == BAD_INPUTS[case].code, result.stderr
    assert BAD_INPUTS[case].message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_no_message_shows_a_password(refusals: dict[str, tuple]) -> None:
    for result, _ in refusals.values():
        assert SECRET not in result.stderr


def test_model_uris_are_written_without_credentials(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketapredict.score.options import Options
    from ketapredict.score.run import run

    shutil.copytree(project / "models" / "responder", tmp_path / f"alice:{SECRET}@host" / "m")
    monkeypatch.chdir(tmp_path)  # file://alice:...@host/m is the folder alice:...@host/m here
    uri = f"file://alice:{SECRET}@host/m"
    for name in ("s.csv", "s.parquet"):
        run(Options(as_csv(project, tmp_path), tmp_path / name, model_uris=(uri,)), root=project)
    sidecar = (tmp_path / "s.csv.json").read_text()
    in_parquet = pq.read_schema(tmp_path / "s.parquet").metadata[b"ketapredict"].decode()
    for text in (sidecar, in_parquet):
        assert SECRET not in text and "file://***@host/m" in text


def test_a_failure_mid_write_leaves_no_file(project: Path, tmp_path: Path) -> None:
    data = as_csv(project, tmp_path, put(25, "age", 150))
    out = tmp_path / "out"
    args = ["-o", str(out / "s.csv"), "--chunk-size", "10", "--model-uri", "models/responder"]
    result = score_process(project, str(data), *args)
    assert result.returncode == 2 and "row 25, column age" in result.stderr
    assert "1 of 30 rows" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("step", "output", "error"),
    [
        ("check_chunk", "s.csv", RuntimeError("reader on fire")),  # the reading thread
        ("score_chunk", "s.csv", RuntimeError("disk on fire")),  # the scoring thread
        ("finish_chunk", "s.parquet", OSError("no space left on device")),  # the writing thread
    ],
)
def test_an_error_in_any_thread_reaches_the_caller_and_removes_every_file(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
    output: str,
    error: Exception,
) -> None:
    from ketapredict.score import stream
    from ketapredict.score.options import Options
    from ketapredict.score.run import run

    calls: list[int] = []
    real = getattr(stream, step)

    def flaky(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(stream, step, flaky)
    out = tmp_path / "out"
    models = (str(project / "models" / "responder"),)
    data = as_csv(project, tmp_path)
    options = Options(data, out / output, model_uris=models, on_invalid="skip", chunk_rows=4)
    with pytest.raises(type(error), match=str(error)):
        run(options, root=project)
    assert len(calls) >= 2 and list(out.iterdir()) == []


@pytest.mark.parametrize(("signal_name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_an_interrupted_run_leaves_no_file(
    project: Path, tmp_path: Path, signal_name: str, code: int
) -> None:
    rows = patients(project, n=400).sample(200_000, replace=True, random_state=0)
    rows.assign(patient_id=np.arange(len(rows))).to_csv(tmp_path / "big.csv", index=False)
    out = tmp_path / "out"
    out.mkdir()
    command = [
        sys.executable, "-m", "ketapredict", "score", str(tmp_path / "big.csv"),
        "-o", str(out / "s.csv"), "--chunk-size", "500", "--model-uri", "models/responder",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=project, env=env(), stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(out.glob(".s.csv.*.tmp")):  # the run has begun writing
        assert process.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(getattr(signal, signal_name))
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    assert list(out.iterdir()) == []
    assert "Traceback" not in stderr


def _with_repeats(project: Path, path: Path) -> pd.DataFrame:
    """30 patients, rows 5 and 17 repeating the ids of rows 2 and 9 (other values differ)."""
    frame = patients(project)
    frame.loc[4, "patient_id"], frame.loc[16, "patient_id"] = frame.loc[1, "patient_id"], \
        frame.loc[8, "patient_id"]  # fmt: skip
    frame.to_csv(path, index=False)
    return frame


def test_repeated_patient_ids_are_flagged_and_counted(project: Path, tmp_path: Path) -> None:
    _with_repeats(project, tmp_path / "p.csv")
    result = score(project, str(tmp_path / "p.csv"), "-o", str(tmp_path / "s.csv"),
                   "--chunk-size", "8", "--model-uri", "models/responder")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 duplicate patient_id" in result.stderr
    out = pd.read_csv(tmp_path / "s.csv")
    assert np.flatnonzero(out["duplicate_id"]).tolist() == [4, 16]  # the later rows, across chunks
    assert json.loads((tmp_path / "s.csv.json").read_text())["rows"]["duplicate_id"] == 2


def test_on_duplicate_fail_refuses_repeated_ids(project: Path, tmp_path: Path) -> None:
    frame = _with_repeats(project, tmp_path / "p.csv")
    out = tmp_path / "out"
    args = [str(tmp_path / "p.csv"), "-o", str(out / "s.csv"), "--on-duplicate", "fail",
            "--chunk-size", "8", "--model-uri", "models/responder"]  # fmt: skip
    result = score(project, *args)
    assert result.returncode == 2, result.stderr
    repeated = frame.loc[16, "patient_id"]
    assert f"row 17, column patient_id: '{repeated}' repeats an earlier row's" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []
    result = score(project, *args, "--on-invalid", "skip")
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(out / "s.rejects.csv")["row"].tolist() == [5, 17]


def test_skip_mode_conserves_rows(project: Path, tmp_path: Path) -> None:
    edits = [
        put(2, "age", 150),
        put(7, "route", "rectal"),
        put(7, "bmi", "x"),
        put(30, "patient_id", None),
    ]
    frame = patients(project)
    for edit in edits:
        frame = edit(frame)
    frame.to_csv(tmp_path / "p.csv", index=False)
    out = tmp_path / "s.parquet"
    result = score(project, str(tmp_path / "p.csv"), "-o", str(out), "--on-invalid", "skip",
                   "--chunk-size", "8", "--model-uri", "models/responder")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "rows in 30 = scored 27 + rejected 3" in result.stderr
    scored = pd.read_parquet(out)
    rejects = pd.read_csv(tmp_path / "s.rejects.csv", dtype=str)
    assert len(scored) + len(rejects) == 30
    assert rejects["row"].tolist() == ["2", "7", "30"]
    assert "route: 'rectal' is not one of iv, im, intranasal, oral" in rejects["reason"][1]
    assert "bmi: 'x' is not a number" in rejects["reason"][1]
    assert rejects["reason"][2] == "patient_id: missing (required)"
    ids = set(scored["patient_id"]) | set(rejects["patient_id"].dropna())
    assert ids == set(patients(project)["patient_id"].astype(str)[:29])


def test_probabilities_equal_mlflow_models_predict(project: Path, tmp_path: Path) -> None:
    rows = patients(project, n=20)
    rows.drop(columns="patient_id").to_csv(tmp_path / "x.csv", index=False)
    rows.to_csv(tmp_path / "p.csv", index=False)
    uri = "models:/ketapredict-responder@champion"
    expected = mlflow_models_predict(project, tmp_path / "x.csv", uri)
    scored = score(project, str(tmp_path / "p.csv"), "-o", str(tmp_path / "s.csv"))
    assert scored.returncode == 0, scored.stderr
    got = pd.read_csv(tmp_path / "s.csv")
    assert got["patient_id"].tolist() == rows["patient_id"].tolist()
    np.testing.assert_allclose(got["p_response"], expected["p_response"], rtol=1e-12)


def test_csv_and_parquet_round_trips_agree(project: Path, tmp_path: Path) -> None:
    rows = patients(project, "relapse")
    rows.to_csv(tmp_path / "p.csv", index=False)
    rows.to_parquet(tmp_path / "p.parquet", index=False)
    runs = {
        "csv": ("p.csv", "a.csv"),
        "parquet": ("p.parquet", "b.parquet"),
        "mixed": ("p.csv", "c.pq"),
    }
    for source, target in runs.values():
        result = score(project, str(tmp_path / source), "-o", str(tmp_path / target), *LOCAL)
        assert result.returncode == 0, result.stderr
    a = pd.read_csv(tmp_path / "a.csv", float_precision="round_trip")
    b = pd.read_parquet(tmp_path / "b.parquet")
    c = pd.read_parquet(tmp_path / "c.pq")
    assert b["patient_id"].dtype == rows["patient_id"].dtype  # Parquet keeps the id's type
    assert (
        a["patient_id"].tolist() == b["patient_id"].tolist() == c["patient_id"].astype(int).tolist()
    )
    for column in ("p_response", "p_relapse"):
        np.testing.assert_array_equal(a[column], b[column])
        np.testing.assert_array_equal(b[column], c[column])
    assert a["response_band"].tolist() == b["response_band"].tolist()
    expected = load_model(project / "models" / "relapse").predict_proba(rows)
    np.testing.assert_allclose(b["p_relapse"], expected, rtol=1e-12)


def test_explain_reasons_add_up_to_the_models_log_odds(project: Path, tmp_path: Path) -> None:
    rows = patients(project, "relapse", n=25)
    rows.to_parquet(tmp_path / "p.parquet", index=False)
    result = score(project, str(tmp_path / "p.parquet"), "-o", str(tmp_path / "e.parquet"),
                   "--explain", "3", *LOCAL)  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = pd.read_parquet(tmp_path / "e.parquet")
    for task, outcome in (("responder", "response"), ("relapse", "relapse")):
        model = load_model(project / "models" / task)
        raw = model.raw_score(build_features(rows, task)[model.features])
        parts = [out[f"{outcome}_reason_{k}_logodds"] for k in (1, 2, 3)]
        total = out[f"{outcome}_base_logodds"] + sum(parts) + out[f"{outcome}_other_logodds"]
        np.testing.assert_allclose(total, raw, atol=1e-9)
        np.testing.assert_allclose(out[f"p_{outcome}"], model.calibrate(raw), rtol=1e-9)
        sizes = np.abs(np.column_stack(parts))
        assert (np.diff(sizes, axis=1) <= 1e-12).all(), "reasons are ordered by size"
        inputs = out[[f"{outcome}_reason_{k}_input" for k in (1, 2, 3)]]
        assert (inputs.nunique(axis=1) == 3).all() and set(inputs.stack()) <= set(raw_columns(task))
        first = out.iloc[0]
        meaning = {f.name: f.meaning for f in SCHEMA[task]}[first[f"{outcome}_reason_1_input"]]
        verb = "raises" if first[f"{outcome}_reason_1_logodds"] > 0 else "lowers"
        assert first[f"{outcome}_reason_1"] == (
            f"{meaning} = {first[f'{outcome}_reason_1_value']} {verb} predicted {outcome}"
        )


def test_provenance_and_notice_travel_with_the_output(project: Path, tmp_path: Path) -> None:
    patients(project).to_csv(tmp_path / "p.csv", index=False)
    for name in ("s.parquet", "s.csv"):
        result = score(project, str(tmp_path / "p.csv"), "-o", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
    in_parquet = json.loads(pq.read_schema(tmp_path / "s.parquet").metadata[b"ketapredict"])
    sidecar = json.loads((tmp_path / "s.csv.json").read_text())
    version, run_id = champion(project, "responder")
    for meta in (in_parquet, sidecar):
        assert meta["notice"] == RESEARCH_NOTICE
        model = meta["models"]["responder"]
        assert (model["name"], model["version"], model["run_id"]) == (
            "ketapredict-responder",
            version,
            run_id,
        )
        assert model["uri"] == "models:/ketapredict-responder@champion"
    rows = {"in": 30, "scored": 30, "rejected": 0, "out_of_distribution": 0, "duplicate_id": 0}
    assert sidecar["rows"] == rows


def test_out_of_range_inputs_and_unseen_categories_are_flagged(
    project: Path, tmp_path: Path
) -> None:
    frame = put(3, "route", "IM")(put(2, "age", 99)(patients(project)))
    frame.to_csv(tmp_path / "p.csv", index=False)
    result = score(project, str(tmp_path / "p.csv"), "-o", str(tmp_path / "o.csv"),
                   "--model-uri", "models/responder")  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = pd.read_csv(tmp_path / "o.csv", keep_default_na=False)
    model = load_model(project / "models" / "responder")
    assert model.ranges["age"][1] < 99 and model.ranges["route_im"] == (0.0, 0.0)
    assert out["ood"].tolist()[:4] == [False, True, True, False]
    assert out["ood_inputs"].tolist()[1:3] == ["age", "route"]
    assert "2 flagged ood" in result.stderr


def test_doses_are_checked_per_drug_and_route(project: Path, tmp_path: Path) -> None:
    frame = patients(project, n=6)
    for row, treatment in enumerate(
        [("ketamine", "iv", 0.5), ("esketamine", "intranasal", 84), ("ketamine", "iv", 2),
         ("ketamine", "iv", 50 / 80), ("esketamine", "iv", 0.5), ("esketamine", "intranasal", 56)],
        start=1,
    ):  # fmt: skip
        frame = treat(row, *treatment)(frame)
    frame.to_csv(tmp_path / "p.csv", index=False)
    result = score(project, str(tmp_path / "p.csv"), "-o", str(tmp_path / "o.csv"),
                   "--model-uri", "models/responder")  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = pd.read_csv(tmp_path / "o.csv", keep_default_na=False)
    assert out["ood"].tolist() == [False, False, True, True, True, True]
    assert out["ood_inputs"].tolist() == ["", "", "dose", "dose", "drug;route", "dose"]


def test_task_defaults_to_both_and_p_relapse_needs_the_end_of_course_values(
    project: Path, tmp_path: Path
) -> None:
    rows = put(4, "pct_change_end", None)(patients(project, "relapse", n=10))
    rows.assign(trial="x", y=1).to_csv(tmp_path / "r.csv", index=False)
    result = score(project, str(tmp_path / "r.csv"), "-o", str(tmp_path / "o.parquet"), *LOCAL)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("ignoring 2 column(s) the models do not use: trial, y") == 1
    out = pd.read_parquet(tmp_path / "o.parquet")
    assert out["p_response"].notna().all()
    assert out["p_relapse"].isna().tolist() == [i == 3 for i in range(10)]
    patients(project, n=5).to_csv(tmp_path / "b.csv", index=False)
    result = score(project, str(tmp_path / "b.csv"), "-o", str(tmp_path / "b.parquet"), *LOCAL)
    assert result.returncode == 0, result.stderr
    assert "p_relapse" not in pd.read_parquet(tmp_path / "b.parquet").columns


def test_categories_and_column_names_ignore_case_and_spaces(project: Path, tmp_path: Path) -> None:
    rows = patients(project, n=10)
    rows.to_csv(tmp_path / "a.csv", index=False)
    messy = rows.assign(route=" " + rows["route"].str.upper(), drug=rows["drug"].str.title())
    messy.rename(columns={"age": "Age ", "diagnosis": "DIAGNOSIS"}).to_csv(
        tmp_path / "b.csv", index=False
    )
    for name in ("a", "b"):
        out = str(tmp_path / f"{name}.out.csv")
        result = score(
            project, str(tmp_path / f"{name}.csv"), "-o", out, "--model-uri", "models/responder"
        )
        assert result.returncode == 0, result.stderr
    a, b = pd.read_csv(tmp_path / "a.out.csv"), pd.read_csv(tmp_path / "b.out.csv")
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    "choice",
    [("--task", "both!"), ("--on-invalid", "drop"), ("--on-duplicate", "keep"),
     ("--format", "xlsx"), ("--input-format", "json"), ("--comparator", "placebo")],
)  # fmt: skip
def test_a_choice_not_offered_is_refused_before_anything_is_read(
    tmp_path: Path, choice: tuple[str, str]
) -> None:
    (tmp_path / "p.csv").write_text("patient_id,age\n1,30\n")
    out = tmp_path / "out"
    result = score(tmp_path, str(tmp_path / "p.csv"), "-o", str(out / "s.csv"), *choice)
    assert result.returncode == 2
    assert f"Invalid value for '{choice[0]}'" in result.stderr
    assert f"'{choice[1]}' is not one of" in result.stderr
    assert not out.exists()


def test_help_lists_the_choices(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ketapredict.cli import app

    result = CliRunner().invoke(app, ["score", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for choices in ("responder|relapse|both|benefit", "fail|skip", "flag|fail", "csv|parquet",
                    "saline|midazolam"):  # fmt: skip
        assert choices in result.stdout
