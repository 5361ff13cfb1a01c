"""`ketapredict score --task benefit`: each patient's estimated benefit of ketamine over a
comparator, its band with the benefit observed there, top reasons; refused input as the other
tasks refuse it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketapredict import RESEARCH_NOTICE
from ketapredict.benefit.model import META_FILE, BenefitModel
from ketapredict.features import BASELINE
from ketapredict.model import load_model
from tests.score.bad_inputs import BAD_INPUTS, Case
from tests.score.helpers import as_csv, patients, put, score

BENEFIT = ("--task", "benefit")


def _scored(project: Path, folder: Path, *args: str, name: str = "b.csv") -> pd.DataFrame:
    rows = patients(project, n=40)
    rows.to_csv(folder / "p.csv", index=False)
    result = score(project, str(folder / "p.csv"), "-o", str(folder / name), *BENEFIT, *args)
    assert result.returncode == 0, result.stderr
    reader = pd.read_csv if name.endswith(".csv") else pd.read_parquet
    return reader(folder / name)


def _served(project: Path) -> BenefitModel:
    model = load_model(project / "models" / "benefit")
    assert isinstance(model, BenefitModel)
    return model


def test_estimates_are_the_champions_against_the_comparator(project: Path, tmp_path: Path) -> None:
    out = _scored(project, tmp_path)
    model, rows = _served(project), patients(project, n=40)
    for comparator in ("saline", "midazolam"):
        if comparator == "midazolam":
            out = _scored(project, tmp_path, "--comparator", "midazolam", name="m.parquet")
        frame = rows.assign(comparator=comparator, period2=0.0, after_active=0.0)
        np.testing.assert_allclose(out["benefit"], model.predict(frame), rtol=1e-12, atol=1e-15)
        assert (out["benefit_comparator"] == comparator).all()
    sidecar = json.loads((tmp_path / "b.csv.json").read_text())
    assert sidecar["notice"] == RESEARCH_NOTICE
    assert sidecar["benefit"]["comparator"] == "saline"
    assert sidecar["models"]["benefit"]["name"] == "ketapredict-benefit"
    assert "risk_bands" not in sidecar  # no probabilities here


def test_each_estimate_comes_with_its_band_and_the_benefit_observed_there(
    project: Path, tmp_path: Path
) -> None:
    out, bands = _scored(project, tmp_path, name="b.parquet"), _served(project).bands
    assert [b["name"] for b in bands] == ["low", "intermediate", "high"]
    cuts = [b["upper"] for b in bands[:-1]]
    expected = np.array([b["name"] for b in bands])[np.digitize(out["benefit"], cuts)]
    assert (out["benefit_band"] == expected).all()
    for band in bands:
        inside = out[out["benefit_band"] == band["name"]]
        assert (inside["benefit_observed"] == band["observed"]).all()
        low, high = inside["benefit_observed_low"], inside["benefit_observed_high"]
        assert ((low < inside["benefit_observed"]) & (inside["benefit_observed"] < high)).all()


def test_reasons_add_up_to_the_estimate_and_name_characteristics(
    project: Path, tmp_path: Path
) -> None:
    out = _scored(project, tmp_path, "--explain", "3", name="e.parquet")
    parts = [out[f"benefit_reason_{k}_contribution"] for k in (1, 2, 3)]
    total = out["benefit_base"] + sum(parts) + out["benefit_other"]
    np.testing.assert_allclose(total, out["benefit"], atol=1e-12)
    sizes = np.abs(np.column_stack(parts))
    assert (np.diff(sizes, axis=1) <= 1e-12).all(), "reasons are ordered by size"
    named = set(out[[f"benefit_reason_{k}_input" for k in (1, 2, 3)]].stack())
    assert named <= {f.name for f in BASELINE} | {"comparator"}  # never the crossover period
    assert out["benefit_reason_1"].str.endswith("estimated benefit").all()


def test_a_comparator_without_the_benefit_task_is_refused(project: Path, tmp_path: Path) -> None:
    data, out = as_csv(project, tmp_path), tmp_path / "out" / "s.csv"
    result = score(project, str(data), "-o", str(out), "--comparator", "midazolam")
    assert result.returncode == 2
    assert "only the benefit has a comparator; pass --task benefit" in result.stderr
    assert not out.parent.exists()


def _benefit_model(kind: str):
    def make(project: Path, src: Path) -> list[str]:
        import shutil

        folder = src / "model"
        if kind == "responder":
            folder = project / "models" / "responder"
        elif kind == "no champion":
            folder.mkdir()
            (folder / "NO_CHAMPION.txt").write_text("No benefit champion: it did not pass\n")
        else:  # its inputs are not this version's
            shutil.copytree(project / "models" / "benefit", folder)
            meta_path = folder / "artifacts" / "served" / META_FILE
            meta = json.loads(meta_path.read_text())
            meta["features"] = meta["features"][:-1]
            meta_path.write_text(json.dumps(meta))
        return [str(as_csv(project, src)), "--model-uri", str(folder)]

    return make


# The row and file refusals of the other tasks, with --task benefit: the same messages; and
# the benefit's own model refusals.
SHARED = ("empty file", "header only", "no patient_id", "out of range", "not a number",
          "unknown category", "flag not 0/1", "output over input", "chunk size 10**12")  # fmt: skip
CASES: dict[str, Case] = {name: BAD_INPUTS[name] for name in SHARED}
CASES.update(
    {
        "age missing": Case(
            lambda p, s: [str(as_csv(p, s, put(2, "age", None)))],
            "row 2, column age: missing (required)",
        ),
        "a responder model": Case(
            _benefit_model("responder"), "is a responder model, but this run scores benefit", 1
        ),
        "no champion": Case(_benefit_model("no champion"), "it did not pass", 1),
        "inputs of another version": Case(
            _benefit_model("schema"), "do not match this version's benefit inputs", 1
        ),
    }
)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_as_for_the_other_tasks(
    project: Path, tmp_path: Path, case: str
) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    args = CASES[case].make(project, src)
    if "-o" not in args:
        args += ["-o", str(out / "s.csv")]
    result = score(project, *args, *BENEFIT)
    assert result.returncode == CASES[case].code, result.stderr
    assert CASES[case].message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr  # one line (with a bad row's lines below it)
    assert not out.exists() or list(out.iterdir()) == []


def test_every_learner_is_registered_and_served_by_mlflow(project: Path, tmp_path: Path) -> None:
    from ketapredict.benefit.learners import LEARNERS
    from ketapredict.benefit.persist import load_learner
    from ketapredict.features import BENEFIT_INPUTS, matrix_of
    from tests.helpers import mlflow_models_predict

    record = json.loads((project / "data" / "train" / "benefit" / "registry.json").read_text())
    assert set(record["learners"]) == set(LEARNERS)
    rows = patients(project, n=12).assign(comparator="midazolam", period2=0, after_active=0)
    rows = rows[[f.name for f in BENEFIT_INPUTS]]
    rows.to_csv(tmp_path / "in.csv", index=False)
    version = record["learners"]["t_learner"]
    served = mlflow_models_predict(
        project, tmp_path / "in.csv", f"models:/ketapredict-benefit-t_learner/{version}"
    )
    learner = load_learner(project / "data" / "train" / "benefit" / "t_learner")
    expected = learner.effect(matrix_of(rows, BENEFIT_INPUTS, "test"))
    np.testing.assert_allclose(served["benefit"], expected, rtol=1e-9)
