"""The table of every true effect (data/synthetic/effects.parquet): role, size, shape, source."""

from __future__ import annotations

import pandas as pd

from ketapredict.cohort.effects import EffectModel, Term

RESPONSE_SCALE = "log-odds of response"
RELAPSE_SCALE = "log hazard ratio of relapse after response (Weibull proportional hazards)"


def _shape(t: Term) -> str:
    """The term's shape in words: transform, cap, dosing and time profile."""
    parts = [t.transform]
    if t.transform in ("hinge", "step"):
        parts[0] += f" at {t.knot:g}"
    if t.cap is not None:
        parts.append(f"capped at {t.cap:g}")
    if t.dosing == "per_kg":
        parts.append("weight-based dosing only")
    if t.time is not None:
        pairs = ", ".join(
            f"{v:g} at {h:g} h" for h, v in zip(t.time.hours, t.time.values, strict=True)
        )
        parts.append(f"x ({pairs})")
    return "; ".join(parts)


def _term_rows(terms: list[Term], outcome: str, role: str, scale: str) -> list[dict[str, object]]:
    return [
        {
            "outcome": outcome,
            "role": role,
            "kind": "interaction" if len(t.covariates) > 1 else "characteristic",
            "characteristic": "+".join(t.covariates),
            "term": t.label,
            "transform": t.transform,
            "center": t.knot if t.transform in ("hinge", "step") else t.center,
            "size": t.coef,
            "unit": t.unit,
            "shape": _shape(t),
            "scale": scale,
            "source": t.source,
            "assumption": t.assumption,
        }
        for t in terms
    ]


def _row(
    outcome: str, role: str, name: str, size: float, unit: str, scale: str, source: str
) -> dict[str, object]:
    return {
        "outcome": outcome,
        "role": role,
        "kind": role,
        "characteristic": name,
        "term": name,
        "transform": "",
        "center": 0.0,
        "size": float(size),
        "unit": unit,
        "shape": "",
        "scale": scale,
        "source": source,
        "assumption": source.lower().startswith("assumption"),
    }


CALIBRATED = "calibrated to the tuned published targets (scripts/calibrate.py)"


def effects_table(model: EffectModel) -> pd.DataFrame:
    """One row per true effect: outcome, role (prognostic: every arm; predictive: modifies the
    drug effect; treatment, non-specific, heterogeneity, relapse, adverse), size and source."""
    r = model.response
    rows = _term_rows(r.prognostic, "response", "prognostic", RESPONSE_SCALE)
    rows += _term_rows(r.predictive, "response", "predictive", RESPONSE_SCALE)
    rows.append(
        _row(
            "response",
            "treatment",
            "drug_effect",
            r.drug_effect,
            "log-odds at 24 h",
            RESPONSE_SCALE,
            CALIBRATED,
        )
    )
    rows.append(
        _row(
            "response",
            "treatment",
            "ed50",
            r.ed50,
            "mg/kg IV-equivalent",
            "Emax dose",
            "Fava 2020 Mol Psychiatry 25:1592 (0.5 and 1.0 mg/kg separate, 0.1 does not)",
        )
    )
    h = r.heterogeneity
    rows.append(
        _row(
            "response",
            "heterogeneity",
            "trial_sd_drug",
            h.drug_sd,
            "SD between trials",
            RESPONSE_SCALE,
            h.source,
        )
    )
    rows.append(
        _row(
            "response",
            "heterogeneity",
            "trial_sd_expectancy",
            h.expectancy_sd,
            "SD between trials",
            RESPONSE_SCALE,
            h.source,
        )
    )
    for name, curve in r.expectancy.items():
        rows.append(
            _row(
                "response",
                "non-specific",
                f"expectancy:{name}",
                float(curve.at(24.0)),
                "log-odds at 24 h",
                RESPONSE_SCALE,
                CALIBRATED,
            )
        )
    for name, curve in r.background.items():
        rows.append(
            _row(
                "response",
                "non-specific",
                f"background:{name}",
                float(curve.at(672.0)),
                "log-odds at day 28",
                RESPONSE_SCALE,
                "configs/model.yaml response.background",
            )
        )
    rows.append(
        _row(
            "response",
            "non-specific",
            "natural_course",
            float(r.natural_course.at(2016.0)),
            "log-odds at 12 weeks",
            RESPONSE_SCALE,
            "Posternak 2001; Whiteford 2013 (derived)",
        )
    )
    for name, route in model.routes.items():
        rows.append(
            _row(
                "response",
                "treatment",
                f"route:{name}",
                route.bioavailability,
                "fraction",
                "bioavailability",
                "configs/model.yaml routes",
            )
        )
    for name, drug in model.drugs.items():
        if drug.active:
            rows.append(
                _row(
                    "response",
                    "treatment",
                    f"drug:{name}",
                    drug.potency,
                    "x racemic",
                    "potency",
                    CALIBRATED,
                )
            )
    rows += _term_rows(model.relapse.terms, "relapse", "relapse", RELAPSE_SCALE)
    rel = model.relapse
    rows.append(
        _row("relapse", "baseline", "weibull_shape", rel.weibull_shape, "", "Weibull", "assumption")
    )
    rows.append(
        _row("relapse", "baseline", "median_days", rel.median_days, "days", "Weibull", CALIBRATED)
    )
    a = model.adverse
    for name, rates in a.events.items():
        rows.append(
            _row(
                f"ae_{name}",
                "adverse",
                "active",
                rates.active,
                "per session",
                "probability",
                "trials.md section 4",
            )
        )
    for name, rate in a.cumulative_per_session.items():
        rows.append(
            _row(
                f"ae_{name}",
                "adverse",
                "per_session",
                rate,
                "per session",
                "hazard",
                "assumption anchored on trials.md section 4",
            )
        )
    return pd.DataFrame(rows)


def effects_markdown(model: EffectModel) -> str:
    """The README's table of every covariate term: role, term, size, shape, source."""
    table = effects_table(model)
    terms = table[table["role"].isin(["prognostic", "predictive", "relapse"])]
    lines = [
        "| role | term | size | unit | shape | source |",
        "|---|---|---|---|---|---|",
    ]
    for r in terms.itertuples():
        lines.append(
            f"| {r.role} | `{r.term}` | {r.size:+.4g} | {r.unit} | {r.shape} | {r.source} |"
        )
    return "\n".join(lines)
