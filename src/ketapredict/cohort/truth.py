"""The table of true effects: every parameter the generator used, on its own scale."""

from __future__ import annotations

import pandas as pd

from ketapredict.cohort.effects import EffectModel, Term

RESPONSE_SCALE = "log-odds of response at 24 h after one IV 0.5 mg/kg ketamine session"
RELAPSE_SCALE = "log hazard ratio of relapse after response (Weibull proportional hazards)"


def _term_rows(terms: list[Term], outcome: str, scale: str) -> list[dict[str, object]]:
    return [
        {
            "outcome": outcome,
            "kind": "interaction" if len(t.covariates) > 1 else "characteristic",
            "characteristic": "+".join(t.covariates),
            "term": t.label,
            "transform": t.transform,
            "center": t.knot if t.transform == "hinge" else t.center,
            "size": t.coef,
            "unit": t.unit,
            "scale": scale,
        }
        for t in terms
    ]


def _row(
    outcome: str, kind: str, name: str, size: float, unit: str, scale: str
) -> dict[str, object]:
    return {
        "outcome": outcome,
        "kind": kind,
        "characteristic": name,
        "term": name,
        "transform": "",
        "center": 0.0,
        "size": float(size),
        "unit": unit,
        "scale": scale,
    }


def effects_table(model: EffectModel) -> pd.DataFrame:
    """One row per true effect (characteristic, outcome, size on the model's scale)."""
    r = model.response
    rows = _term_rows(r.terms, "response", RESPONSE_SCALE)
    rows.append(
        _row("response", "treatment", "drug_effect", r.drug_effect, "log-odds", RESPONSE_SCALE)
    )
    rows.append(_row("response", "treatment", "ed50", r.ed50, "mg/kg IV-equivalent", "Emax dose"))
    for name, curve in r.expectancy.items():
        rows.append(
            _row(
                "response",
                "expectancy",
                name,
                float(curve.at(24.0)),
                "log-odds at 24 h",
                "expectancy",
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
            )
        )
    for name, drug in model.drugs.items():
        if drug.active:
            rows.append(
                _row("response", "treatment", f"drug:{name}", drug.potency, "x racemic", "potency")
            )
    rows += _term_rows(model.relapse.terms, "relapse", RELAPSE_SCALE)
    rel = model.relapse
    rows.append(_row("relapse", "baseline", "weibull_shape", rel.weibull_shape, "", "Weibull"))
    rows.append(_row("relapse", "baseline", "median_days", rel.median_days, "days", "Weibull"))
    a = model.adverse
    for name, rates in a.events.items():
        rows.append(
            _row(f"ae_{name}", "treatment", "active", rates.active, "per session", "probability")
        )
    for name, rate in a.cumulative_per_session.items():
        rows.append(_row(f"ae_{name}", "treatment", "per_session", rate, "per session", "hazard"))
    return pd.DataFrame(rows)
