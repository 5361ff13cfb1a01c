"""Each DVC stage lists as deps every module of ketapredict its code imports (the rule and the
fix, `scripts/dvc_deps.py`, are in that script)."""

from __future__ import annotations

import importlib.util

import pytest
import yaml

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("dvc_deps", ROOT / "scripts" / "dvc_deps.py")
dvc_deps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dvc_deps)
closure, module_file, SRC = dvc_deps.closure, dvc_deps.module_file, dvc_deps.SRC
stage_module = dvc_deps.stage_module

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def test_every_pipeline_command_runs_a_stage_module() -> None:
    for name, stage in STAGES.items():
        command = stage["cmd"].split()
        assert command[0] == "ketapredict", name
        assert module_file(stage_module(stage["cmd"])), name


def test_a_command_finds_its_stage_module() -> None:
    assert stage_module("ketapredict train responder") == "ketapredict.stages.train"
    assert stage_module("ketapredict train benefit") == "ketapredict.stages.train_benefit"
    assert stage_module("ketapredict evaluate-benefit") == "ketapredict.stages.evaluate_benefit"


@pytest.mark.parametrize("name", sorted(STAGES))
def test_deps_cover_the_import_closure(name: str) -> None:
    stage = STAGES[name]
    deps = [ROOT / d for d in stage.get("deps", [])]
    needed = closure(stage_module(stage["cmd"]))
    missing = sorted(
        str(path.relative_to(ROOT))
        for path in needed
        if not any(path == d or d in path.parents for d in deps)
    )
    assert not missing, f"dvc.yaml: stage {name} lacks deps {missing}: run scripts/dvc_deps.py"


def test_closure_follows_lazy_and_relative_imports() -> None:
    files = {p.relative_to(SRC).as_posix() for p in closure("ketapredict.stages.evaluate")}
    # plots is imported inside a function; champion nowhere, nor the SHAP figures (only the
    # explain stage draws them): they must not be there
    assert "ketapredict/plots/__init__.py" in files and "ketapredict/train.py" in files
    assert "ketapredict/plots/curves.py" in files and "ketapredict/plots/shap.py" not in files
    assert "ketapredict/__init__.py" in files and "ketapredict/stages/__init__.py" in files
    assert not [f for f in files if f.startswith("ketapredict/score/")]
