"""Assembling the generator's tables: concatenation, long visits, global ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ketapredict.cohort.frames import COHORT_TABLES, Cohort, category, concat, finish, long_visits
from ketapredict.cohort.scales import SCALES
from ketapredict.cohort.specs import Arm
from tests.conftest import simple_trial


def test_concat_unions_categories_in_sorted_order_and_skips_empty_parts() -> None:
    a = pd.DataFrame({"arm": category("saline", 2), "x": [1.0, 2.0]})
    b = pd.DataFrame({"arm": category("ketamine", 1), "x": [3.0]})
    out = concat([a, b.iloc[:0], b])
    assert out["arm"].cat.categories.tolist() == ["ketamine", "saline"]
    assert out["arm"].astype(str).tolist() == ["saline", "saline", "ketamine"]
    assert out["x"].tolist() == [1.0, 2.0, 3.0]


def test_long_visits_start_at_baseline_and_stop_at_dropout() -> None:
    arm = Arm(name="ketamine", drug="ketamine", route="iv", dose=0.5)
    hours = np.array([24.0, 168.0])
    scores = np.array([[10.0, 20.0], [16.0, 12.0]])
    observed = np.array([[True, True], [True, False]])
    baseline = np.array([30.0, 30.0])
    v = long_visits(np.array([5, 7]), 0, arm, hours, baseline, scores, observed, SCALES["madrs"])
    assert v["patient"].tolist() == [5, 5, 5, 7, 7]
    assert v["visit"].astype(str).tolist() == ["baseline", "24h", "d7", "baseline", "24h"]
    assert v["score"].tolist() == [30, 10, 20, 30, 16]
    assert v["response"].tolist() == [False, True, False, False, False]
    assert v["remission"].tolist() == [False, True, False, False, False]
    assert (v["period"] == 1).all() and (v["scale"] == "madrs").all()


def test_finish_gives_global_ids_and_keeps_the_relapse_lp_out_of_outcomes() -> None:
    spec = simple_trial()
    patients = pd.DataFrame({"age": [40.0, 50.0]})
    visits = pd.DataFrame({"patient": [0, 0, 1], "score": [30, 12, 28]})
    outcomes = pd.DataFrame({"patient": [0, 1], "relapse_lp": [0.1, np.nan]})
    truth = pd.DataFrame({"patient": [0, 1], "p": [0.4, 0.6]})
    c = finish(spec, patients, visits, outcomes, truth, id_offset=100)
    assert isinstance(c, Cohort) and len(COHORT_TABLES) == 4
    assert c.patients.columns.tolist()[:3] == ["patient_id", "trial", "design"]
    assert c.patients["patient_id"].tolist() == [100, 101]
    assert c.visits["patient_id"].tolist() == [100, 100, 101]
    assert "relapse_lp" not in c.outcomes and "patient" not in c.outcomes
    assert (c.truth["trial"] == "simple").all()
