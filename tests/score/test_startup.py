"""What a scoring run's start-up does not do (no timing: the modules it imports, the files it
opens, the processes it starts): a model folder needs neither MLflow, SHAP nor the registry;
a cached champion needs no MLflow and no download process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import env
from tests.score.helpers import as_csv

pytestmark = pytest.mark.slow

# Runs the CLI in this interpreter and reports, at exit, the heavy packages imported and what
# touched the registry: files opened under mlflow.db or the model cache, SQLite connections,
# processes started (audit events, so nothing is patched).
DRIVER = """
import atexit, json, sys
seen = {"opened": [], "events": []}
WATCHED = ("sqlite3.connect", "os.fork", "os.posix_spawn", "subprocess.Popen")

def hook(event, args):
    if event == "open" and any(n in str(args[0]) for n in ("mlflow.db", ".ketapredict-cache")):
        seen["opened"].append(str(args[0]))
    elif event in WATCHED:
        seen["events"].append(event)

sys.addaudithook(hook)
HEAVY = {"mlflow", "shap", "sklearn", "lightgbm", "sqlalchemy", "matplotlib"}

def report():
    seen["modules"] = sorted({m.split(".")[0] for m in sys.modules} & HEAVY)
    print("STARTUP " + json.dumps(seen), file=sys.stderr)

atexit.register(report)
from ketapredict.cli import main
sys.argv[0] = "ketapredict"
main()
"""


def _run(cwd: Path, *args: str, **extra: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, "score", *args], cwd=cwd, env={**env(), **extra},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("STARTUP "))
    return json.loads(line.removeprefix("STARTUP "))


def test_a_model_folder_needs_no_mlflow_no_shap_and_no_registry(
    project: Path, tmp_path: Path
) -> None:
    """Run inside the trained project, whose mlflow.db is right there: not opened."""
    inputs = as_csv(project, tmp_path)
    folder = str(project / "models" / "responder")
    seen = _run(project, str(inputs), "-o", str(tmp_path / "s.csv"), "--model-uri", folder)
    assert seen == {"opened": [], "events": [], "modules": []}
    # the reasons come from LightGBM's own TreeSHAP: still no SHAP, no scikit-learn
    seen = _run(project, str(inputs), "-o", str(tmp_path / "e.csv"), "--model-uri", folder,
                "--explain", "2")  # fmt: skip
    assert seen["modules"] == [] and seen["events"] == []


def test_a_benefit_model_folder_needs_no_lightgbm_package(project: Path, tmp_path: Path) -> None:
    inputs = as_csv(project, tmp_path)
    folder = str(project / "models" / "benefit")
    seen = _run(project, str(inputs), "-o", str(tmp_path / "b.csv"), "--task", "benefit",
                "--model-uri", folder, "--explain", "2")  # fmt: skip
    assert seen == {"opened": [], "events": [], "modules": []}


def test_a_cached_champion_needs_no_mlflow_and_no_download(project: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copy(project / "mlflow.db", tmp_path / "mlflow.db")
    inputs = as_csv(project, tmp_path)
    uri = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    first = _run(tmp_path, str(inputs), "-o", str(tmp_path / "a.csv"), **uri)
    assert "os.fork" in first["events"]  # the download, in a child process
    again = _run(tmp_path, str(inputs), "-o", str(tmp_path / "b.csv"), **uri)
    assert again["modules"] == []
    assert again["events"] == ["sqlite3.connect"]  # the alias's version, read: nothing more
