"""Tune the shared effect model (configs/model.yaml) once against the published targets.

Procedure (README, "Calibration"): every target marked `tuned: true` in configs/trials/ is
simulated at a large size (its design's population value) under candidate parameters, with
common random numbers so the objective is deterministic. Residuals are (simulated - published)
divided by the statistic's sampling SE at the trial's published size (estimated once from
replications), so each trial counts by its precision. scipy's least_squares (trust region,
bounded) minimises their sum of squares over the shared parameters below. Trial specs carry no
effect sizes; only these shared parameters move. The script prints the fitted values; copy them
into configs/model.yaml (or pass --write to update the file in place, comments kept).

    .venv/bin/python scripts/calibrate.py [--size 8000] [--max-evals 300]
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML
from scipy import optimize

from ketapredict.cohort.effects import EffectModel
from ketapredict.cohort.effects_table import effects_markdown
from ketapredict.cohort.specs import load_effect_model, load_specs
from ketapredict.layout import Layout, find_root
from ketapredict.replicate.simulate import World, population_values, replicate_trial

Setter = Callable[[dict[str, Any], float], None]


def _term(section: str, label: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def find(d: dict[str, Any]) -> dict[str, Any]:
        for t in d[section]["terms"]:
            cov = t["covariate"]
            name = cov if isinstance(cov, str) else " x ".join(cov)
            if name == label:
                return t
        raise KeyError(label)

    return find


def _shift_curve(path: tuple[str, ...]) -> tuple[Callable[[dict], float], Setter]:
    """A curve's level, as the value at 24 h; setting it shifts the whole curve."""

    def get(d: dict) -> float:
        c = _dig(d, path)
        return float(np.interp(np.log1p(24), np.log1p(c["hours"]), c["values"]))

    def put(d: dict, v: float) -> None:
        c = _dig(d, path)
        delta = v - get(d)
        for i, x in enumerate(c["values"]):
            c["values"][i] = round(float(x) + delta, 4)

    return get, put


def _knot(path: tuple[str, ...], hours: float) -> tuple[Callable[[dict], float], Setter]:
    def get(d: dict) -> float:
        c = _dig(d, path)
        return float(c["values"][c["hours"].index(hours)])

    def put(d: dict, v: float) -> None:
        c = _dig(d, path)
        c["values"][c["hours"].index(hours)] = round(v, 4)

    return get, put


def _scale_curve(path: tuple[str, ...], hours: float) -> tuple[Callable[[dict], float], Setter]:
    """A curve's value at one knot; setting it scales the whole curve (its shape kept)."""
    get, _ = _knot(path, hours)

    def put(d: dict, v: float) -> None:
        c = _dig(d, path)
        ratio = v / get(d)
        c["values"] = [round(float(x) * ratio, 4) for x in c["values"]]

    return get, put


def _value(path: tuple[str, ...]) -> tuple[Callable[[dict], float], Setter]:
    def get(d: dict) -> float:
        return float(_dig(d, path[:-1])[path[-1]])

    def put(d: dict, v: float) -> None:
        _dig(d, path[:-1])[path[-1]] = round(v, 4)

    return get, put


def _coef(section: str, label: str) -> tuple[Callable[[dict], float], Setter]:
    find = _term(section, label)
    return (lambda d: float(find(d)["coef"])), (
        lambda d, v: find(d).__setitem__("coef", round(v, 4))
    )


def _dig(d: dict, path: tuple[str, ...]) -> Any:
    for key in path:
        d = d[key]
    return d


# name: (get/set, lower, upper)
PARAMETERS: dict[str, tuple[tuple[Callable[[dict], float], Setter], float, float]] = {
    "drug_effect": (_value(("response", "drug_effect")), 0.5, 3.5),
    "expectancy_active_blind_24h": (
        _shift_curve(("response", "expectancy", "active_blind")),
        -3,
        0.5,
    ),
    "expectancy_inert_24h": (_shift_curve(("response", "expectancy", "inert")), -4, -0.5),
    "expectancy_spray_24h": (_shift_curve(("response", "expectancy", "spray")), -4, 0.5),
    "time_weight_2h": (_knot(("response", "time_weight"), 2), 0.4, 1.4),
    "background_new_672h": (_scale_curve(("response", "background", "new"), 672), 0.3, 4.0),
    "improve_scale": (_value(("response", "improve_scale")), 0.05, 0.3),
    "worsen_scale": (_value(("response", "worsen_scale")), 0.05, 0.4),
    "repeat_gain": (_value(("response", "repeat_gain")), 0.0, 2.0),
    "esketamine_potency": (_value(("drugs", "esketamine", "potency")), 0.3, 3.0),
    "relapse_median_days": (_value(("relapse", "median_days")), 2, 60),
    "relapse_antidepressant": (_coef("relapse", "antidepressant"), -4, 0),
    "relapse_sessions": (_coef("relapse", "n_sessions"), -3, 0),
    "relapse_maintenance": (_coef("relapse", "on_maintenance"), -3, 0),
    "relapse_maintenance_if_remitted": (_coef("relapse", "on_maintenance x remission_end"), -1, 2),
}


def _yaml() -> YAML:
    """Round-trip YAML in model.yaml's own layout."""
    y = YAML()
    y.width = 200
    y.indent(mapping=2, sequence=4, offset=2)
    return y


README_START = "<!-- table of terms: scripts/calibrate.py --readme-only regenerates it -->"
README_END = "<!-- end of the table of terms -->"


def write_readme_table(paths: Layout) -> None:
    """Rewrite the README's table of every term from configs/model.yaml."""
    readme = paths.root / "README.md"
    text = readme.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    table = effects_markdown(load_effect_model(paths.model))
    readme.write_text(f"{text[:start]}\n{table}\n{text[end:]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=8000, help="patients per design per evaluation")
    parser.add_argument("--max-evals", type=int, default=300)
    parser.add_argument("--write", action="store_true", help="rewrite configs/model.yaml")
    parser.add_argument(
        "--readme-only", action="store_true", help="only regenerate the README's table of terms"
    )
    args = parser.parse_args()
    paths = Layout(find_root(Path(__file__).parent))
    if args.readme_only:
        write_readme_table(paths)
        return
    specs = load_specs(paths)
    raw = _yaml().load(paths.model.read_text())
    targets = [(s.name, t) for s in specs.trials.values() for t in s.published if t.tuned]
    names = sorted({name for name, _ in targets})
    world = World(specs.population, specs.model, specs.trials)
    se = {}
    for name in names:  # sampling SE of each statistic at the published size
        reps = list(replicate_trial(world, name, replications=60, seed=99))
        for t in specs.trials[name].published:
            se[(name, t.label)] = max(float(np.nanstd([r[t.label] for r in reps])), 1e-3)

    def model_for(x: np.ndarray) -> EffectModel:
        d = copy.deepcopy(raw)
        for (gs, _, _), v in zip(PARAMETERS.values(), x, strict=True):
            gs[1](d, float(v))
        return EffectModel.model_validate(d)

    def residuals(x: np.ndarray) -> np.ndarray:
        w = World(specs.population, model_for(x), specs.trials)
        pops = {name: population_values(w, name, n=args.size, seed=7) for name in names}
        r = [(pops[n][t.label] - t.value) / se[(n, t.label)] for n, t in targets]
        return np.nan_to_num(np.asarray(r), nan=10.0)

    x0 = np.array([gs[0](raw) for gs, _, _ in PARAMETERS.values()])
    lower = np.array([lo for _, lo, _ in PARAMETERS.values()])
    upper = np.array([hi for _, _, hi in PARAMETERS.values()])
    start = time.perf_counter()
    r0 = residuals(x0)
    fit = optimize.least_squares(
        residuals, np.clip(x0, lower, upper), bounds=(lower, upper), diff_step=0.05,
        max_nfev=args.max_evals, x_scale=np.maximum(np.abs(x0), 0.1),
    )  # fmt: skip
    print(f"sum of squares {np.sum(r0**2):.1f} -> {np.sum(fit.fun**2):.1f} "
          f"({fit.nfev} evaluations, {time.perf_counter() - start:.0f} s): "
          f"{fit.message}")  # fmt: skip
    for (name, t), a, b in zip(targets, r0, fit.fun, strict=True):
        print(f"  {name:20s} {t.label[:58]:58s} z {a:+6.2f} -> {b:+6.2f}")
    print("fitted parameters:")
    for key, a, b in zip(PARAMETERS, x0, fit.x, strict=True):
        print(f"  {key:34s} {a:8.4f} -> {b:8.4f}")
    if args.write:  # round-trip YAML: comments and layout of model.yaml are kept
        for (gs, _, _), v in zip(PARAMETERS.values(), fit.x, strict=True):
            gs[1](raw, float(v))
        with paths.model.open("w") as fh:
            _yaml().dump(raw, fh)
        write_readme_table(paths)


if __name__ == "__main__":
    main()
