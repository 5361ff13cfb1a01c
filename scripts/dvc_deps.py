"""Each DVC stage's deps are every ketapredict module its code imports (lazy imports in
functions too), so a change to any of them re-runs the stage and nothing else. The CLI, which
only dispatches to the stage, is left out: a help-text edit should not re-run the pipeline.

    .venv/bin/python scripts/dvc_deps.py          # rewrite dvc.yaml's src/ deps (comments kept)
    .venv/bin/python scripts/dvc_deps.py --check  # exit 1 and list the stages that differ

A subpackage whose every module is needed is listed as its folder. tests/test_dvc_deps.py
checks dvc.yaml against `closure`.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def module_file(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def imported(path: Path, module: str) -> set[str]:
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
    return {m for m in found if m.split(".")[0] == "ketapredict" and module_file(m)}


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
        todo += sorted(imported(module_file(name), name))
    return {module_file(m) for m in seen}


def stage_module(command: str) -> str:
    """The stage module a command runs: `ketapredict evaluate-benefit` ->
    stages.evaluate_benefit, `ketapredict train benefit` -> stages.train_benefit (a module of
    the command and its argument wins), `ketapredict train responder` -> stages.train."""
    words = command.split()
    name = words[1].replace("-", "_")
    if len(words) > 2 and module_file(f"ketapredict.stages.{name}_{words[2]}"):
        name = f"{name}_{words[2]}"
    return f"ketapredict.stages.{name}"


def src_deps(module: str) -> list[str]:
    """`module`'s closure as dvc.yaml deps: whole subpackages as folders, then single files."""
    files = closure(module)
    folders = sorted(
        {p.parent for p in files if p.parent != SRC / "ketapredict"},
        key=lambda f: f.as_posix(),
    )
    whole = [f for f in folders if set(f.glob("*.py")) <= files]
    single = [p for p in files if p.parent not in whole]
    return [p.relative_to(ROOT).as_posix() for p in whole] + sorted(
        p.relative_to(ROOT).as_posix() for p in single
    )


def main() -> int:
    from ruamel.yaml import YAML

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, do not write")
    args = parser.parse_args()
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    path = ROOT / "dvc.yaml"
    pipeline = yaml.load(path.read_text())
    stale = []
    for name, stage in pipeline["stages"].items():
        deps = list(stage.get("deps", []))
        others = [d for d in deps if not str(d).startswith("src/")]
        wanted = others + src_deps(stage_module(stage["cmd"]))
        if deps != wanted:
            stale.append(name)
            stage["deps"] = wanted
    if args.check:
        print("\n".join(f"dvc.yaml: stage {s}'s src deps differ from its imports" for s in stale))
        return 1 if stale else 0
    with path.open("w") as out:
        yaml.dump(pipeline, out)
    print(f"updated {', '.join(stale) or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
