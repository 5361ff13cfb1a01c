"""Figures name characteristics as the data dictionary does, not by their column names."""

from __future__ import annotations

from ketapredict.plain_names import plain


def test_columns_one_hot_features_blocks_and_subgroups_read_as_words() -> None:
    assert plain("n_failed_trials") == "Failed antidepressant trials"
    assert plain("bmi") == "Body-mass index"  # the dictionary's meaning
    assert plain("diagnosis_bipolar") == "Diagnosis: bipolar"
    assert plain("sessions + interval_days") == "Planned sessions + Days between sessions"
    assert plain("age_band") == "Age band"
    assert plain("something_else") == "something_else"  # unknown: unchanged
