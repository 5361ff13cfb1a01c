"""The feature builder, its schema, and the leakage guard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ketapredict import features
from ketapredict.cohort.dictionary import data_dictionary
from ketapredict.config import load_params
from ketapredict.contract import TASKS
from ketapredict.errors import DataError, LeakageError
from ketapredict.features import SCHEMA, Feature, build_features, check_no_leakage, feature_names


@pytest.fixture(scope="module")
def dictionary(specs) -> pd.DataFrame:
    return data_dictionary(specs.population)


def test_the_real_schema_passes_the_leakage_guard(dictionary) -> None:
    for task in TASKS:
        check_no_leakage(task, dictionary)


@pytest.mark.parametrize(
    "column", ["cadss_peak", "pct_change_end", "response_24h", "relapse_days", "ae_nausea"]
)
def test_a_during_or_after_column_in_the_responder_model_fails(
    monkeypatch, dictionary, column
) -> None:
    leaky = (*SCHEMA["responder"], Feature(column, "numeric", "", "leak"))
    monkeypatch.setitem(SCHEMA, "responder", leaky)
    with pytest.raises(LeakageError, match=column):
        check_no_leakage("responder", dictionary)


@pytest.mark.parametrize("column", ["relapse_days", "relapse_event", "p_relapse_horizon"])
def test_an_outcome_or_truth_column_in_the_relapse_model_fails(
    monkeypatch, dictionary, column
) -> None:
    monkeypatch.setitem(
        SCHEMA, "relapse", (*SCHEMA["relapse"], Feature(column, "numeric", "", "leak"))
    )
    with pytest.raises(LeakageError, match=column):
        check_no_leakage("relapse", dictionary)


def test_build_features_one_hot_and_missing() -> None:
    row = {f.name: 1.0 for f in SCHEMA["responder"] if f.kind != "category"}
    frame = pd.DataFrame([row, row])
    frame["diagnosis"] = ["Bipolar", None]
    frame["drug"] = ["esketamine", "ketamine"]
    frame["route"] = ["intranasal", "iv"]
    frame.loc[1, "bmi"] = np.nan
    X = build_features(frame, "responder")
    assert list(X.columns) == feature_names("responder")
    assert (X.dtypes == np.float64).all()
    assert X.loc[0, "diagnosis_bipolar"] == 1 and X.loc[0, "diagnosis_ptsd"] == 0
    assert np.isnan(X.loc[1, "diagnosis_bipolar"]) and np.isnan(X.loc[1, "bmi"])
    assert X.loc[0, "drug_esketamine"] == 1 and X.loc[0, "route_intranasal"] == 1
    assert X.loc[1, "route_intranasal"] == 0


def test_categories_give_the_same_matrix_as_text_or_as_a_categorical() -> None:
    row = {f.name: 1.0 for f in SCHEMA["responder"] if f.kind != "category"}
    frame = pd.DataFrame([row] * 5)
    frame["diagnosis"] = [" MDD", "Bipolar ", None, "ptsd", "other"]
    frame["drug"] = ["esketamine", "KETAMINE", "ketamine", None, "ketamine"]
    frame["route"] = ["intranasal", "iv", "IM", "oral", "iv"]
    as_text = build_features(frame, "responder")
    coded = frame.astype({c: "category" for c in ("diagnosis", "drug", "route")})
    pd.testing.assert_frame_equal(build_features(coded, "responder"), as_text)
    assert as_text["diagnosis_bipolar"].tolist()[:2] == [0.0, 1.0]
    assert np.isnan(as_text.loc[2, "diagnosis_ptsd"]) and as_text.loc[4, "diagnosis_ptsd"] == 0
    assert as_text.loc[1, "drug_esketamine"] == 0 and np.isnan(as_text.loc[3, "drug_esketamine"])
    assert as_text.loc[2, "route_im"] == 1 and as_text.loc[3, "route_oral"] == 1


def test_missing_input_column_is_named() -> None:
    with pytest.raises(DataError, match="'age'"):
        build_features(pd.DataFrame({"bmi": [1.0]}), "responder")


def test_every_trained_treatment_is_listed_with_its_doses(root, specs) -> None:
    """TRAINED_DOSES covers every active arm of the default cohort's designs (the training
    data), and its doses are possible ones."""
    cohorts = load_params(root / "params.yaml").generate.cohorts
    for spec in (specs.trials[name] for name in cohorts):
        for arm in spec.arms:
            if not specs.model.drugs[arm.drug].active:
                continue
            low, high = features.TRAINED_DOSES[(arm.drug, arm.route)]
            assert low <= arm.dose <= high, (spec.name, arm.name)
    for (_, route), (low, high) in features.TRAINED_DOSES.items():
        assert 0 < low <= high <= features.DOSE_LIMITS[route]
