"""What `dvc plots show` needs to render offline and legibly, generated into .dvc/plots/:

- page.html: the page template (`plots.html_template` in .dvc/config), with Vega, Vega-Lite and
  vega-embed from .dvc/plots/vendor/ inlined, so dvc_plots/index.html needs no network. It has
  no `{scripts}` placeholder, where DVC would put its CDN <script src> tags.
- curves.json, curves_diagonal.json, decision_curve.json: the Vega-Lite templates that
  dvc.yaml's `plots:` name. One colour per curve, the legend naming each curve by the part of
  its file (or column) name that differs between the curves of the plot (`roc_lightgbm.csv`,
  `roc_oracle.csv` -> lightgbm, oracle), the revision added when several are compared
  (`dvc plots diff`). curves_diagonal adds the y = x line (ROC chance, perfect calibration);
  decision_curve shows net benefit from -0.05 to just above its maximum (treat all's, at the
  lowest threshold), clipping treat all's fall at high thresholds.

    .venv/bin/python scripts/plots_template.py          # write the four files
    .venv/bin/python scripts/plots_template.py --check  # exit 1 and name those that differ

.dvc/plots/README.md says where the vendored files come from and how to update them;
tests/test_dvc_plots.py renders the plots and checks the page loads nothing from the network.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLOTS = ROOT / ".dvc" / "plots"
VENDOR = PLOTS / "vendor"
PAGE = PLOTS / "page.html"

# (file in vendor/, npm package, version, SHA-256 of the file as npm ships it)
LIBRARIES = (
    (
        "vega.min.js",
        "vega",
        "5.33.1",
        "463f3db6a40b20e9747b4ed38f37ed0add508838f9141b1cf8366784b07b30c8",
    ),
    (
        "vega-lite.min.js",
        "vega-lite",
        "5.23.0",
        "58c27358e26f2d319cf62f45bc17a4c8362f08645001df2ec8d341eee4097c7f",
    ),
    (
        "vega-embed.min.js",
        "vega-embed",
        "6.29.0",
        "12d02acfbe3ec59ef9a37dd4822a2e04e2961b5bbb671bbe661d2221715b99da",
    ),
)

# The strings dvc_render.html.HTML replaces in the page template.
PLACEHOLDERS = ("{plot_divs}", "{scripts}", "{refresh_tag}")

# --- Vega-Lite templates ------------------------------------------------------------------

X, Y = "<DVC_METRIC_X>", "<DVC_METRIC_Y>"
X_LABEL, Y_LABEL = "<DVC_METRIC_X_LABEL>", "<DVC_METRIC_Y_LABEL>"

# Known curves, in legend order, with the figures' Okabe-Ito colours (src/ketapredict/plots):
# a colour is reused only by curves that never share a plot.
BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
PURPLE, SKY_BLUE, BLACK, GREY, LIGHT_GREY = "#CC79A7", "#56B4E9", "#000000", "#7F7F7F", "#A6A6A6"
MODELS = {
    "lightgbm": BLUE,
    "logistic": ORANGE,
    "penalized logistic": GREEN,
    "prognostic": ORANGE,
    "risk strata": PURPLE,
    "T-learner": SKY_BLUE,
    "X-learner": BLUE,
    "DR-learner": GREEN,
    "causal forest": VERMILLION,
    "PEHE": VERMILLION,
    "c-for-benefit": PURPLE,
}
REFERENCES = {"oracle": BLACK, "treat all": GREY, "treat none": LIGHT_GREY}
# Curves not listed above, in order of their names (Paul Tol's muted scheme).
OTHER_COLOURS = ("#882255", "#44AA99", "#999933", "#332288", "#AA4499", "#117733", "#88CCEE")
DOTTED, DASHED = ("oracle",), ("treat none", "prognostic", "risk strata")
DASHES = ([1, 0], [6, 3], [2, 2])  # solid, dashed, dotted: indexed by curve_dash
# Names as the words of a file name spell them -> as written in the report.
SPELLING = {
    "pehe": "PEHE",
    "c for benefit": "c-for-benefit",
    "t learner": "T-learner",
    "s learner": "S-learner",
    "x learner": "X-learner",
    "dr learner": "DR-learner",
    "auroc": "AUROC",
}
MAX_WORDS = 10  # words of a curve's name compared for the common prefix and suffix
POINTS_UP_TO = 25  # curves with at most this many points show them (learning curves)


def _js(value: Any) -> str:
    """A Vega expression literal."""
    return json.dumps(value).replace('"', "'")


def _common_words(a: str, b: str, depth: int = 0) -> str:
    """Vega expression: how many leading items the arrays `a` and `b` share."""
    if depth == MAX_WORDS:
        return str(depth)
    same = f"length({a}) > {depth} && length({b}) > {depth} && {a}[{depth}] === {b}[{depth}]"
    return f"({same} ? {_common_words(a, b, depth + 1)} : {depth})"


def _lookup(mapping: dict[str, str], key: str, default: str) -> str:
    """Vega expression: mapping[key] if key is in it, else default."""
    keys, values = _js(list(mapping)), _js(list(mapping.values()))
    return f"(indexof({keys}, {key}) >= 0 ? {values}[indexof({keys}, {key})] : {default})"


def curve_transforms() -> list[dict[str, Any]]:
    """Name each row's curve, and give it a legend key, a colour and a dash.

    DVC marks each row with the revision (`rev`) and, when a plot reads several files or
    columns, with `filename` and/or `field` (`filename::field` when both vary). A curve's name
    is the words (split at `_`, `/`, `::`) of that source that differ between the curves of
    the plot: the common leading words are those of the lexically first and last source, the
    common trailing ones those of the first and last reversed source. The legend key sorts
    the known models first and the references (oracle, treat all, treat none) last; its colour
    is unique per key (a near-invisible alpha step), as Vega-Lite's data-driven colour range
    needs, and fainter for each further revision.
    """
    source = (
        "isValid(datum['filename::field']) ? datum['filename::field'] : "
        "isValid(datum.field) ? datum.field : "
        f"isValid(datum.filename) ? datum.filename : '{Y}'"
    )
    stem = (
        "replace(replace(datum.curve_source, "
        r"regexp('\\.(csv|tsv|json|yaml|yml)(::|$)', 'g'), '$2'), "
        r"regexp('::|/|\\\\', 'g'), '_')"
    )
    reverse = "join(reverse(split({}, '')), '')"
    words = (
        "slice(datum.curve_words, datum.curve_lead, length(datum.curve_words) - datum.curve_trail)"
    )
    plain = (
        "join(datum.curve_core_min > 0 ? datum.curve_core : "
        "length(slice(datum.curve_words, datum.curve_lead)) > 0 ? "
        "slice(datum.curve_words, datum.curve_lead) : datum.curve_words, ' ')"
    )
    rank = (
        f"(indexof({_js(list(MODELS))}, datum.curve_name) >= 0 ? "
        f"indexof({_js(list(MODELS))}, datum.curve_name) : "
        f"indexof({_js(list(REFERENCES))}, datum.curve_name) >= 0 ? "
        f"90 + indexof({_js(list(REFERENCES))}, datum.curve_name) : 50)"
    )
    dash = (
        f"indexof({_js(list(DOTTED))}, datum.curve_name) >= 0 ? 2 : "
        f"indexof({_js(list(DASHED))}, datum.curve_name) >= 0 ? 1 : 0"
    )
    other = f"{_js(list(OTHER_COLOURS))}[(datum.curve_order - 1) % {len(OTHER_COLOURS)}]"
    base = _lookup({**MODELS, **REFERENCES}, "datum.curve_name", other)
    alpha = (
        "format(max(16, [255, 170, 120, 80][min(datum.curve_rev - 1, 3)] - datum.curve_order),"
        " '02x')"
    )
    return [
        {"calculate": source, "as": "curve_source"},
        {"calculate": stem, "as": "curve_stem"},
        {"calculate": reverse.format("datum.curve_stem"), "as": "curve_mets"},
        {
            "joinaggregate": [
                {"op": "min", "field": "curve_stem", "as": "curve_first"},
                {"op": "max", "field": "curve_stem", "as": "curve_last"},
                {"op": "min", "field": "curve_mets", "as": "curve_tsrif"},
                {"op": "max", "field": "curve_mets", "as": "curve_tsal"},
                {"op": "distinct", "field": "rev", "as": "curve_revs"},
            ]
        },
        {"calculate": "split(datum.curve_stem, '_')", "as": "curve_words"},
        {
            "calculate": _common_words(
                "split(datum.curve_first, '_')", "split(datum.curve_last, '_')"
            ),
            "as": "curve_lead",
        },
        {
            "calculate": _common_words(
                "split(datum.curve_tsrif, '_')", "split(datum.curve_tsal, '_')"
            ),
            "as": "curve_trail",
        },
        {"calculate": words, "as": "curve_core"},
        {"calculate": "length(datum.curve_core)", "as": "curve_core_length"},
        {"joinaggregate": [{"op": "min", "field": "curve_core_length", "as": "curve_core_min"}]},
        {"calculate": plain, "as": "curve_plain"},
        {
            "calculate": _lookup(SPELLING, "datum.curve_plain", "datum.curve_plain"),
            "as": "curve_name",
        },
        {
            "calculate": "datum.curve_revs > 1 ? datum.curve_name + ' · ' + datum.rev "
            ": datum.curve_name",
            "as": "curve",
        },
        # the file's row order, kept within each curve (a ROC curve's vertical steps)
        {"window": [{"op": "row_number", "as": "curve_row"}]},
        {
            "joinaggregate": [{"op": "min", "field": "curve_row", "as": "curve_rev_row"}],
            "groupby": ["rev"],
        },
        {
            "window": [{"op": "dense_rank", "as": "curve_rev"}],
            "sort": [{"field": "curve_rev_row"}],
        },
        {"calculate": dash, "as": "curve_dash"},
        {
            "calculate": f"format({rank}, '02d') + format(datum.curve_rev - 1, '02d') "
            "+ datum.curve_dash + '|' + datum.curve",
            "as": "curve_key",
        },
        {"window": [{"op": "dense_rank", "as": "curve_order"}], "sort": [{"field": "curve_key"}]},
        {"calculate": f"{base} + {alpha}", "as": "curve_colour"},
        {"joinaggregate": [{"op": "count", "as": "curve_points"}], "groupby": ["curve_key"]},
    ]


def _axes(y_scale: dict[str, Any] | None = None) -> dict[str, Any]:
    y: dict[str, Any] = {"field": Y, "type": "quantitative", "title": Y_LABEL}
    y["scale"] = y_scale or {"zero": False}
    return {"x": {"field": X, "type": "quantitative", "title": X_LABEL}, "y": y}


def _colour(legend: bool = True) -> dict[str, Any]:
    """Colour by curve: the legend shows each curve's colour and dash, labelled by name."""
    spec = {
        "title": None,
        "symbolType": "stroke",
        "labelExpr": "slice(datum.label, 6)",  # the key less its sort prefix
        "labelLimit": 260,
        "symbolStrokeWidth": 2.5,
        "symbolSize": 300,
        "encode": {
            "symbols": {
                "update": {
                    "strokeDash": {
                        "signal": f"{_js(list(DASHES))}[toNumber(slice(datum.value, 4, 5))]"
                    }
                }
            }
        },
    }
    return {
        "field": "curve_key",
        "type": "nominal",
        "sort": "ascending",
        "scale": {"range": {"field": "curve_colour"}},
        "legend": spec if legend else None,
    }


def _curve_layers(clip: bool, y_scale: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    dash = {
        "condition": [
            {"test": f"datum.curve_dash == {i}", "value": pattern}
            for i, pattern in enumerate(DASHES)
            if i
        ],
        "value": DASHES[0],
    }
    tooltip = [
        {"field": "curve", "title": "curve"},
        {"field": X, "type": "quantitative", "title": X_LABEL, "format": ".4~g"},
        {"field": Y, "type": "quantitative", "title": Y_LABEL, "format": ".4~g"},
    ]
    line = {
        "mark": {"type": "line", "strokeWidth": 2, "clip": clip},
        "params": ["<DVC_METRIC_ZOOM_AND_PAN>"],
        "encoding": {
            **_axes(y_scale),
            "color": _colour(),
            "strokeDash": dash,
            "order": {"field": "curve_row", "type": "quantitative"},
        },
    }
    points = {  # hover targets everywhere; visible on curves of few points
        "mark": {"type": "point", "filled": True, "size": 40, "clip": clip},
        "encoding": {
            **_axes(),
            "color": _colour(legend=False),
            "opacity": {
                "condition": {"test": f"datum.curve_points <= {POINTS_UP_TO}", "value": 1},
                "value": 0,
            },
            "tooltip": tooltip,
        },
    }
    return [line, points]


def _spec(subtitle: str, layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": "<DVC_METRIC_DATA>"},
        "title": {"text": "<DVC_METRIC_TITLE>", "subtitle": subtitle, "anchor": "start"},
        "width": 400,
        "height": 300,
        "transform": curve_transforms(),
        "layer": layers,
        # the line and point layers compute the same colours; one legend (the lines')
        "resolve": {"scale": {"color": "independent"}},
        "config": {
            "font": "Helvetica, Arial, sans-serif",
            "title": {"fontSize": 14, "subtitleFontSize": 11, "subtitleColor": "#555555"},
            "axis": {"titleFontSize": 12, "labelFontSize": 11, "gridColor": "#ececec"},
            "legend": {"labelFontSize": 12},
            "view": {"stroke": "#d0d0d0"},
        },
    }


def curves() -> dict[str, Any]:
    return _spec("", _curve_layers(clip=False))


def curves_diagonal() -> dict[str, Any]:
    """Curves and the y = x line over the x range (ROC: chance; calibration: perfect)."""
    diagonal = {
        "transform": [
            {
                "aggregate": [
                    {"op": "min", "field": X, "as": "diagonal_from"},
                    {"op": "max", "field": X, "as": "diagonal_to"},
                ]
            }
        ],
        "mark": {"type": "rule", "color": "#9a9a9a", "strokeDash": [4, 4], "strokeWidth": 1},
        "encoding": {
            "x": {"field": "diagonal_from", "type": "quantitative", "title": X_LABEL},
            "y": {"field": "diagonal_from", "type": "quantitative", "title": Y_LABEL},
            "x2": {"field": "diagonal_to"},
            "y2": {"field": "diagonal_to"},
        },
    }
    return _spec("grey dashed line: y = x", [diagonal, *_curve_layers(clip=False)])


# Net benefit's y axis: from NET_BENEFIT_FLOOR (rmda's and Vickers' dca default: a little
# below treat none's 0, whatever the prevalence, in the same units of true positives per
# patient) to HEADROOM above the highest net benefit (treat all's, at the lowest threshold).
NET_BENEFIT_FLOOR = -0.05
HEADROOM = 0.05


def decision_curve() -> dict[str, Any]:
    """Net-benefit curves with the y axis clipped to [-0.05, max + 5%]."""
    headroom = {  # an invisible rule that sets the top of the y axis
        "transform": [
            {"aggregate": [{"op": "max", "field": Y, "as": "net_benefit_max"}]},
            {
                "calculate": f"max(datum.net_benefit_max, 0.05) * {1 + HEADROOM}",
                "as": "net_benefit_top",
            },
        ],
        "mark": {"type": "rule", "opacity": 0},
        "encoding": {"y": {"field": "net_benefit_top", "type": "quantitative", "title": Y_LABEL}},
    }
    scale = {"domainMin": NET_BENEFIT_FLOOR, "nice": False, "zero": False}
    floor = f"{NET_BENEFIT_FLOOR:g}".replace("-", "\N{MINUS SIGN}")
    subtitle = f"y axis from {floor} to just above treat all's maximum; lower values are cut off"
    return _spec(subtitle, [headroom, *_curve_layers(clip=True, y_scale=scale)])


TEMPLATES = {
    "curves.json": curves,
    "curves_diagonal.json": curves_diagonal,
    "decision_curve.json": decision_curve,
}

# --- the page -----------------------------------------------------------------------------

PAGE_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{refresh_tag}
<title>ketapredict: DVC plots</title>
<!-- Generated by scripts/plots_template.py; edit that, not this file. It has no scripts
     placeholder, where DVC would put its CDN script tags: the libraries are inlined below. -->
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 16px 24px; color: #222; }
  header h1 { font-size: 20px; margin: 0 0 4px; }
  header p { font-size: 12px; color: #555; margin: 0 0 16px; }
  main { display: flex; flex-wrap: wrap; gap: 28px 24px; align-items: flex-start; }
  table { border-spacing: 15px; }
</style>
"""

PAGE_BODY = """</head>
<body>
<header>
  <h1>ketapredict: DVC plots</h1>
  <p>Rendered without network access: {libraries} are inlined in this page
  (.dvc/plots/vendor, BSD-3-Clause).</p>
</header>
<main>
{plot_divs}
</main>
</body>
</html>
"""

# Every plot DVC writes calls vegaEmbed(id, spec): render as SVG and leave out the "Open in
# Vega Editor" action, the one that needs the network.
EMBED_OPTIONS = """<script>
(function () {
  var embed = window.vegaEmbed;
  window.vegaEmbed = function (el, spec, opts) {
    var options = Object.assign(
      {renderer: "svg", actions: {export: true, source: true, compiled: true, editor: false}},
      opts || {}
    );
    return embed(el, spec, options).catch(function (error) {
      var node = typeof el === "string" ? document.querySelector(el) : el;
      if (node) node.insertAdjacentText("beforeend", "Could not render: " + error);
    });
  };
})();
</script>
"""


def vendored(name: str, package: str, version: str, sha256: str) -> str:
    """A vendored library's code, checked against its recorded hash, ready to inline."""
    data = (VENDOR / name).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SystemExit(f"{VENDOR / name}: not {package}@{version} as recorded in {__file__}")
    code = data.decode("utf-8")
    lines = [x for x in code.splitlines() if not x.startswith("//# sourceMappingURL=")]
    code = "\n".join(lines)
    for bad in ("</script", *PLACEHOLDERS):
        if bad.lower() in code.lower():
            raise SystemExit(f"{name} holds {bad!r}, which would break the page template")
    return code


def page() -> str:
    scripts = [
        f"<script>/* {package} {version} (BSD-3-Clause), .dvc/plots/vendor/{name} */\n"
        f"{vendored(name, package, version, sha256)}\n</script>\n"
        for name, package, version, sha256 in LIBRARIES
    ]
    libraries = ", ".join(f"{p} {v}" for _, p, v, _ in LIBRARIES)
    body = PAGE_BODY.replace("{libraries}", html.escape(libraries))
    return PAGE_HEAD + "".join(scripts) + EMBED_OPTIONS + body


def outputs() -> dict[Path, str]:
    out = {
        PLOTS / name: json.dumps(make(), indent=2, ensure_ascii=False) + "\n"
        for name, make in TEMPLATES.items()
    }
    out[PAGE] = page()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is not current")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("not current (run scripts/plots_template.py):", *stale, file=sys.stderr)
        return 1
    for path in stale:
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
