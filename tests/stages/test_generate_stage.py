"""The generate stage writes whole, deterministic files and rejects unknown designs."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from ketapredict.cohort.specs import read_effect_model
from ketapredict.config import GenerateParams
from ketapredict.errors import ConfigError, SpecError
from ketapredict.io import read_parquet
from ketapredict.layout import Layout
from ketapredict.stages import generate as stage
from tests.conftest import ROOT

SMALL = {"zarate2006": 60, "murrough2013": 90, "sustain1": 120, "realworld": 150}


def _run(
    tmp_path, name: str, seed: int, cohorts=SMALL, scenario: str = "literature"
) -> dict[str, str]:
    paths = Layout(ROOT)
    paths.synthetic = tmp_path / name
    paths.truth_summary = tmp_path / f"{name}-truth.json"
    params = GenerateParams(seed=seed, relapse_horizon_days=28, cohorts=cohorts, scenario=scenario)
    stage.run(paths, params)
    return {
        f.name: hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(paths.synthetic.iterdir())
    }


def test_same_seed_gives_byte_identical_files(tmp_path) -> None:
    first, second = _run(tmp_path, "a", 1), _run(tmp_path, "b", 1)
    assert set(first) == {
        "patients.parquet", "visits.parquet", "outcomes.parquet", "truth.parquet",
        "effects.parquet", "effect_model.json", "dictionary.csv",
    }  # fmt: skip
    assert first == second
    assert (tmp_path / "a-truth.json").read_bytes() == (tmp_path / "b-truth.json").read_bytes()


def test_other_seed_gives_other_data(tmp_path) -> None:
    first, other = _run(tmp_path, "a", 1), _run(tmp_path, "c", 2)
    for table in ("patients", "visits", "outcomes", "truth"):
        assert first[f"{table}.parquet"] != other[f"{table}.parquet"]
    effects = [read_parquet(tmp_path / d / "effects.parquet") for d in ("a", "c")]
    assert effects[0].equals(effects[1])


def test_adding_a_design_leaves_the_others_unchanged(tmp_path) -> None:
    _run(tmp_path, "a", 1, {"zarate2006": 60})
    _run(tmp_path, "b", 1, {"berman2000": 30, "zarate2006": 60})
    a = read_parquet(tmp_path / "a" / "patients.parquet").drop(columns=["patient_id"])
    b = read_parquet(tmp_path / "b" / "patients.parquet")
    b = b[b["trial"] == "zarate2006"].drop(columns=["patient_id"]).reset_index(drop=True)
    as_text = {"trial": str, "design": str, "diagnosis": str}
    pd.testing.assert_frame_equal(a.astype(as_text), b.astype(as_text))


def test_every_column_is_in_the_data_dictionary(tmp_path) -> None:
    _run(tmp_path, "a", 1)
    dictionary = pd.read_csv(tmp_path / "a" / "dictionary.csv")
    for table in ("patients", "visits", "outcomes", "truth"):
        columns = read_parquet(tmp_path / "a" / f"{table}.parquet").columns
        documented = set(dictionary.loc[dictionary["table"] == table, "column"])
        assert set(columns) == documented, table
    assert set(dictionary["timing"]) == {"id", "before", "during", "after", "truth"}


def test_ids_are_unique_across_designs(tmp_path) -> None:
    _run(tmp_path, "a", 1)
    patients = read_parquet(tmp_path / "a" / "patients.parquet")
    assert patients["patient_id"].is_unique and len(patients) == sum(SMALL.values())


def test_unknown_design_in_params_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"generate\.cohorts\.nosuch: no trial spec"):
        _run(tmp_path, "x", 1, {"nosuch": 10})
    assert not (tmp_path / "x").exists()


def test_a_failure_in_a_later_design_writes_no_table(tmp_path, monkeypatch) -> None:
    """The tables are written design by design; one failing design leaves none of them."""
    from ketapredict.cohort import generate

    real = generate.generate_trial

    def fail_on_sustain1(spec, *args, **kwargs):
        if spec.name == "sustain1":
            raise RuntimeError("interrupted")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(generate, "generate_trial", fail_on_sustain1)
    with pytest.raises(RuntimeError, match="interrupted"):
        _run(tmp_path, "x", 1)
    assert list((tmp_path / "x").iterdir()) == []
    assert not (tmp_path / "x-truth.json").exists()


def test_a_scenario_changes_the_truth_and_is_written_down(tmp_path) -> None:
    _run(tmp_path, "flat", 1, {"murrough2013": 400}, scenario="no_heterogeneity")
    model = read_effect_model(tmp_path / "flat" / "effect_model.json")
    assert model.response.predictive == []
    truth = read_parquet(tmp_path / "flat" / "truth.parquet")
    assert truth["benefit_logodds_24h"].std() < 1e-9
    summary = json.loads((tmp_path / "flat-truth.json").read_text())
    assert summary["scenario"] == "no_heterogeneity"
    assert summary["designs"]["murrough2013"]["benefit_logodds_24h_sd"] < 1e-9
    effects = read_parquet(tmp_path / "flat" / "effects.parquet")
    assert "predictive" not in set(effects["role"]) and "prognostic" in set(effects["role"])


def test_an_unknown_scenario_is_a_one_line_error_and_writes_nothing(tmp_path) -> None:
    with pytest.raises(SpecError, match=r"generate\.scenario: no scenario 'nosuch'.*available: "):
        _run(tmp_path, "x", 1, scenario="nosuch")
    assert not (tmp_path / "x").exists() and not (tmp_path / "x-truth.json").exists()
