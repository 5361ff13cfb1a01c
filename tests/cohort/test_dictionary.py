"""The data dictionary covers the population spec, and the README shows all of it."""

from __future__ import annotations

from ketapredict.cohort.dictionary import columns_measured, data_dictionary
from tests.conftest import ROOT


def test_every_covariate_is_measured_before_treatment(specs) -> None:
    before = columns_measured(specs.population, "before")
    assert set(specs.population.covariates) <= before
    assert {"pct_change_end", "cadss_peak"} <= columns_measured(specs.population, "during")
    assert "p_response_active_24h" in columns_measured(specs.population, "truth")


def test_readme_documents_every_column(specs) -> None:
    readme = (ROOT / "README.md").read_text()
    for row in data_dictionary(specs.population).itertuples():
        assert f"| `{row.column}` | {row.unit} | {row.timing} | {row.meaning} |" in readme, row
