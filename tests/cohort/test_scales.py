"""Rating scales: range, remission cut-off and the factor from MADRS points fit each other."""

from __future__ import annotations

import pytest

from ketapredict.cohort.scales import SCALES


@pytest.mark.parametrize(
    ("name", "label", "max_score", "remission_max"),
    [("hamd6", "HAM-D-6", 22, 4), ("caps5", "CAPS-5", 80, 11)],
)
def test_the_added_scales(name, label, max_score, remission_max) -> None:
    scale = SCALES[name]
    assert (scale.label, scale.max_score, scale.remission_max) == (label, max_score, remission_max)


def test_a_typical_baseline_sits_well_inside_every_scale() -> None:
    for scale in SCALES.values():
        typical = scale.factor * 32  # a typical TRD baseline, MADRS ~32
        assert scale.remission_max <= typical / 2 < typical < scale.max_score, scale.name
