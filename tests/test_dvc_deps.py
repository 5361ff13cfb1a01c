"""Each DVC stage lists as deps every module of ketapredict its code imports, so a change to
any of them re-runs the stage (and nothing else). The CLI, which only dispatches to the
stage, is left out: a help-text edit should not re-run the pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

SRC = ROOT / "src"


def _file(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def _imported(path: Path, module: str) -> set[str]:
    """ketapredict modules imported anywhere in the file (lazy imports in functions too)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([base] if base else [])])
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m.split(".")[0] == "ketapredict" and _file(m)}


def closure(module: str) -> set[Path]:
    """Files of every ketapredict module (and enclosing package) `module` imports, transitively."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += sorted(_imported(_file(name), name))
    return {_file(m) for m in seen}


STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def test_every_pipeline_command_runs_a_stage_module() -> None:
    for name, stage in STAGES.items():
        command = stage["cmd"].split()
        assert command[0] == "ketapredict", name
        assert _file(f"ketapredict.stages.{command[1]}"), name


@pytest.mark.parametrize("name", sorted(STAGES))
def test_deps_cover_the_import_closure(name: str) -> None:
    stage = STAGES[name]
    deps = [ROOT / d for d in stage.get("deps", [])]
    needed = closure(f"ketapredict.stages.{stage['cmd'].split()[1]}")
    missing = sorted(
        str(path.relative_to(ROOT))
        for path in needed
        if not any(path == d or d in path.parents for d in deps)
    )
    assert not missing, f"dvc.yaml: stage {name} lacks deps {missing}"


def test_closure_follows_lazy_and_relative_imports() -> None:
    files = {p.relative_to(SRC).as_posix() for p in closure("ketapredict.stages.evaluate")}
    # plots is imported inside a function; champion nowhere: it must not be there
    assert "ketapredict/plots.py" in files and "ketapredict/train.py" in files
    assert "ketapredict/__init__.py" in files and "ketapredict/stages/__init__.py" in files
    assert "ketapredict/score.py" not in files
