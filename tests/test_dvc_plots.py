"""`dvc plots show` renders without network: its page template (.dvc/plots/page.html, named by
.dvc/config's plots.html_template) inlines Vega, Vega-Lite and vega-embed from
.dvc/plots/vendor, and dvc.yaml's plots use the Vega-Lite templates beside it, which
scripts/plots_template.py generates. Rendered in a throw-away DVC project holding the repo's
plots section and small curve files, so a `dvc repro` rewriting reports/ doesn't matter."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import BIN, ROOT, run

_spec = importlib.util.spec_from_file_location(
    "plots_template", ROOT / "scripts" / "plots_template.py"
)
plots_template = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(plots_template)

PLOTS: list[dict] = yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]
DECISION_TEMPLATE = "decision_curve"


def _definitions() -> dict[str, dict]:
    return {title: props for plot in PLOTS for title, props in plot.items()}


def _columns() -> dict[str, list[str]]:
    """Each file the plots read, with the columns they read from it."""
    columns: dict[str, list[str]] = {}
    for props in _definitions().values():
        for path, fields in props["y"].items():
            wanted = columns.setdefault(path, [props["x"]])
            wanted += [fields] if isinstance(fields, str) else fields
    return columns


def _project(folder: Path) -> Path:
    """A DVC project (no git) with the repo's .dvc/config, .dvc/plots and dvc.yaml plots
    section, and 12 rows of made-up numbers in every file they read."""
    run([str(BIN / "dvc"), "init", "--no-scm", "-q"], folder)
    shutil.copy(ROOT / ".dvc" / "config", folder / ".dvc" / "config")
    shutil.copytree(ROOT / ".dvc" / "plots", folder / ".dvc" / "plots")
    (folder / "dvc.yaml").write_text(yaml.safe_dump({"plots": PLOTS}, allow_unicode=True))
    for path, columns in _columns().items():
        names = list(dict.fromkeys(columns))
        rows = [
            ",".join(f"{(i / 11) ** (1 + k / 3):.4f}" for k in range(len(names))) for i in range(12)
        ]
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text("\n".join([",".join(names), *rows]) + "\n")
    return folder


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    project = _project(tmp_path_factory.mktemp("plots"))
    shown = run([str(BIN / "dvc"), "plots", "show", "-o", "out"], project)
    assert "failed" not in (shown.stdout + shown.stderr).lower(), shown.stderr
    return (project / "out" / "index.html").read_text(encoding="utf-8")


def _specs(page: str) -> dict[str, dict]:
    """The Vega-Lite spec of each plot on the page, by title."""
    specs = [json.loads(s) for s in re.findall(r"var spec = (\{.*?\});\n", page)]
    return {spec["title"]["text"]: spec for spec in specs}


def test_the_page_template_is_configured_and_keeps_dvc_scripts_out() -> None:
    configured = run([str(BIN / "dvc"), "config", "plots.html_template"], ROOT).stdout.strip()
    template = ROOT / ".dvc" / configured  # DVC reads it relative to .dvc/
    assert template == plots_template.PAGE and template.is_file()
    text = template.read_text(encoding="utf-8")
    assert "{plot_divs}" in text and "{scripts}" not in text  # DVC puts CDN tags at {scripts}


def test_the_page_needs_no_network(page: str) -> None:
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", page, re.IGNORECASE), "a script to fetch"
    assert not re.search(r"\b(src|href)\s*=\s*[\"']?\s*(https?:)?//", page, re.IGNORECASE)
    assert "cdn.jsdelivr.net" not in page and "<link" not in page.lower()
    for name, package, version, sha256 in plots_template.LIBRARIES:
        code = plots_template.vendored(name, package, version, sha256)
        assert code in page, f"{package} {version} is not inlined"
    assert page.count("vegaEmbed('#") == len(PLOTS)


def test_every_plot_is_on_the_page_with_its_axis_titles(page: str) -> None:
    specs = _specs(page)
    assert set(specs) == set(_definitions())
    for title, props in _definitions().items():
        assert specs[title]["$schema"].endswith("/vega-lite/v5.json")  # the vendored major
        line = next(layer for layer in specs[title]["layer"] if "params" in layer)
        assert line["encoding"]["x"]["title"] == props["x_label"], title
        assert line["encoding"]["y"]["title"] == props["y_label"], title
        assert line["encoding"]["color"]["field"] == "curve_key", title  # not the revision


def test_decision_curves_clip_net_benefit_below_the_floor(page: str) -> None:
    decision = [t for t, p in _definitions().items() if p["template"] == DECISION_TEMPLATE]
    assert len(decision) == 3  # responder, relapse, counterfactual
    for title in decision:
        line = next(layer for layer in _specs(page)[title]["layer"] if "params" in layer)
        assert line["encoding"]["y"]["scale"]["domainMin"] == plots_template.NET_BENEFIT_FLOOR
        assert line["mark"]["clip"] is True


def test_plots_use_our_templates_which_are_current() -> None:
    names = {Path(name).stem for name in plots_template.TEMPLATES}
    for title, props in _definitions().items():
        assert props["template"] in names, title
        assert props.get("x_label") and props.get("y_label"), title
    stale = [
        path.relative_to(ROOT)
        for path, text in plots_template.outputs().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"run scripts/plots_template.py: {stale} differ"


def test_dvc_plots_output_is_ignored_by_git() -> None:
    assert "dvc_plots/" in (ROOT / ".gitignore").read_text().split()
