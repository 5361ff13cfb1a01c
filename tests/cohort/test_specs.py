"""Bad specs are rejected with a SpecError naming the file and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ketapredict.cohort.specs import load_effect_model, load_population, load_trial
from ketapredict.errors import SpecError
from tests.conftest import ROOT, trial_data


def _write(tmp_path: Path, data: Any, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def _load(tmp_path: Path, data: dict[str, Any], specs) -> None:
    load_trial(_write(tmp_path, data), specs.population, specs.model)


def test_every_preset_loads(specs) -> None:
    assert set(specs.trials) == {
        "berman2000", "zarate2006", "murrough2013", "feder2014",
        "murrough2013_serial", "sustain1", "realworld", "transform2", "feder2021",
        "fava2020", "phillips2019",
    }  # fmt: skip
    for spec in specs.trials.values():
        assert spec.sources, f"{spec.name} cites no source"


def test_the_new_presets_use_their_own_scales_and_response_cut_off(specs) -> None:
    feder, fava = specs.trials["feder2021"], specs.trials["fava2020"]
    assert (feder.scale_spec().label, fava.scale_spec().label) == ("CAPS-5", "HAM-D-6")
    assert {t.threshold for t in feder.published if t.statistic == "response_rate"} == {0.3}
    assert [a.dose for a in fava.arms] == [0.1, 0.2, 0.5, 1.0, 0.045]
    assert {a.background for a in fava.arms} == {"continued"}
    assert [round(a.allocation * fava.published_n) for a in fava.arms] == [18, 20, 22, 20, 19]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(design="factorial"), "design"),
        (lambda d: d["arms"][0].update(dose=-0.5), "arms.0.dose"),
        (lambda d: d["arms"][0].update(allocation=0.9), "allocation adds up to"),
        (lambda d: d["arms"][0].update(drug="psilocybin"), "arms.0.drug"),
        (lambda d: d.update(control="placebo"), "undefined arm 'placebo'"),
        (
            lambda d: d["population"]["overrides"].update(weight_kg={"mean": 80}),
            "undefined covariate 'weight_kg'",
        ),
        (lambda d: d.update(colour="red"), "colour: unknown key"),
        (lambda d: d["visits"].update(hours=[2, 4]), "must include 24"),
        (
            lambda d: d["published"][4].update(threshold=0.3),
            "threshold applies to response_rate and odds_ratio only, not 'mean_change'",
        ),
        (lambda d: d["published"][0].update(threshold=50), r"published\.0\.threshold"),
        (lambda d: d.update(dropout={"rate": 0.1, "mechanism": "mar"}), "depends_on"),
        (
            lambda d: d.update(dropout={"rate": 0.1, "mechanism": "mar", "depends_on": "iq"}),
            "undefined covariate 'iq'",
        ),
        (
            lambda d: d.update(dropout={"rate": 0.1, "mechanism": "mnar", "depends_on": "age"}),
            "MNAR depends on unobserved values",
        ),
        (
            lambda d: d.update(
                measurement={"misclassified": {"age": {"sensitivity": 0.9, "specificity": 0.9}}}
            ),
            r"measurement\.misclassified\.age: only a 0/1 \(bernoulli\) covariate",
        ),
        (
            lambda d: d.update(measurement={"noisy": {"female": {"cv": 0.2}}}),
            r"measurement\.noisy\.female: multiplicative noise needs a non-negative",
        ),
        (
            lambda d: d.update(measurement={"noisy": {"weight_kg": {"cv": 0.2}}}),
            r"measurement\.noisy: undefined covariate 'weight_kg'",
        ),
        (lambda d: d.update(measurement={"rater_sd": -1.0}), r"measurement\.rater_sd"),
        (
            lambda d: d.update(
                measurement={"misclassified": {"female": {"sensitivity": 1.2, "specificity": 1}}}
            ),
            r"measurement\.misclassified\.female\.sensitivity",
        ),
    ],
)
def test_bad_parallel_spec_is_rejected(tmp_path, specs, change, message) -> None:
    data = trial_data("murrough2013")
    change(data)
    with pytest.raises(SpecError, match=message) as info:
        _load(tmp_path, data, specs)
    text = str(info.value)
    assert "bad.yaml" in text and "\n" not in text


def test_crossover_sequence_naming_an_undefined_arm_is_rejected(tmp_path, specs) -> None:
    data = trial_data("zarate2006")
    data["sequences"][0]["arms"] = ["ketamine", "placebo"]
    with pytest.raises(SpecError, match="undefined arm 'placebo'"):
        _load(tmp_path, data, specs)


def test_crossover_sequences_must_add_up(tmp_path, specs) -> None:
    data = trial_data("zarate2006")
    data["sequences"][0]["allocation"] = 0.7
    with pytest.raises(SpecError, match=r"crossover allocation adds up to 1\.2"):
        _load(tmp_path, data, specs)


def test_withdrawal_arms_must_be_defined(tmp_path, specs) -> None:
    data = trial_data("sustain1")
    data["withdrawal"]["arms"] = ["continue", "stop"]
    with pytest.raises(SpecError, match="undefined arm 'stop'"):
        _load(tmp_path, data, specs)


def test_unknown_distribution_in_population_is_rejected(tmp_path) -> None:
    data = yaml.safe_load((ROOT / "configs" / "population.yaml").read_text())
    data["covariates"]["bmi"]["distribution"] = {"dist": "gamma", "shape": 2}
    with pytest.raises(SpecError, match=r"covariates\.bmi\.distribution.*gamma"):
        load_population(_write(tmp_path, data))


def test_correlation_with_undefined_covariate_is_rejected(tmp_path) -> None:
    data = yaml.safe_load((ROOT / "configs" / "population.yaml").read_text())
    data["correlations"].append({"between": ["age", "iq"], "r": 0.2})
    with pytest.raises(SpecError, match="undefined covariate 'iq'"):
        load_population(_write(tmp_path, data))


def test_impossible_correlations_are_rejected(tmp_path) -> None:
    data = yaml.safe_load((ROOT / "configs" / "population.yaml").read_text())
    data["correlations"] = [
        {"between": ["age", "bmi"], "r": 0.9},
        {"between": ["age", "height_cm"], "r": 0.9},
        {"between": ["bmi", "height_cm"], "r": -0.9},
    ]
    with pytest.raises(SpecError, match="positive definite"):
        load_population(_write(tmp_path, data))


def test_effect_model_with_unknown_drug_is_rejected(tmp_path) -> None:
    data = yaml.safe_load((ROOT / "configs" / "model.yaml").read_text())
    data["drugs"]["psilocybin"] = {"active": True, "expectancy": "inert"}
    with pytest.raises(SpecError, match="unknown drug 'psilocybin'"):
        load_effect_model(_write(tmp_path, data))


def test_malformed_yaml_names_the_line(tmp_path, specs) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\narms: [unclosed\n")
    with pytest.raises(SpecError, match=r"broken.yaml: line \d+: not valid YAML"):
        load_trial(path, specs.population, specs.model)


def test_a_key_given_twice_in_a_trial_spec_is_refused(tmp_path, specs) -> None:
    text = (ROOT / "configs" / "trials" / "zarate2006.yaml").read_text()
    path = tmp_path / "zarate2006.yaml"
    path.write_text(text + "published_n: 9999\n")
    with pytest.raises(
        SpecError, match=r"zarate2006.yaml: line \d+: .*'published_n' appears twice"
    ):
        load_trial(path, specs.population, specs.model)


def test_a_trial_spec_that_is_not_utf8_is_a_spec_error(tmp_path, specs) -> None:
    text = (ROOT / "configs" / "trials" / "zarate2006.yaml").read_text() + "# Zárate\n"
    path = tmp_path / "zarate2006.yaml"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(SpecError, match=r"zarate2006\.yaml: not UTF-8 text"):
        load_trial(path, specs.population, specs.model)


def test_a_boolean_is_not_a_count(tmp_path, specs) -> None:
    data = trial_data("zarate2006")
    data["published_n"] = True
    path = tmp_path / "zarate2006.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match="published_n: Input should be a valid integer"):
        load_trial(path, specs.population, specs.model)


def test_a_trial_records_with_literature_error_unless_it_says_otherwise(specs) -> None:
    trial = specs.trials["murrough2013"].measurement
    assert trial.rater_sd == 1.6
    assert trial.misclassified["family_history_aud"].sensitivity == 0.6
    assert specs.trials["realworld"].measurement.rater_sd == 4.0
