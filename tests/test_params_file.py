"""params.yaml survives `dvc exp run -S`: DVC's own rewrite changes the value set, nothing else
(no list restyled, no comment lost)."""

from __future__ import annotations

import shutil

from dvc.utils.hydra import apply_overrides

from tests.conftest import ROOT


def test_dvc_set_param_changes_only_the_value(tmp_path) -> None:
    path = tmp_path / "params.yaml"
    shutil.copy(ROOT / "params.yaml", path)
    before = path.read_text().splitlines()
    apply_overrides(str(path), ["train.seed=6", "plan.replicates=4"])  # as `dvc exp run -S`
    after = path.read_text().splitlines()
    assert len(after) == len(before)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [("  seed: 5", "  seed: 6"), ("  replicates: 3", "  replicates: 4")]
