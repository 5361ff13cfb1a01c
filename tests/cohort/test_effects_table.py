"""The table of true effects: one row per term, with its role and source."""

from __future__ import annotations

import pandas as pd

from ketapredict.cohort.effects_table import effects_markdown, effects_table


def test_effects_table_rows_match_the_model_terms(specs) -> None:
    m = specs.model
    table = effects_table(m)
    for role, terms in (
        ("prognostic", m.response.prognostic),
        ("predictive", m.response.predictive),
        ("relapse", m.relapse.terms),
    ):
        rows = table[table["role"] == role]
        assert rows["term"].tolist() == [t.label for t in terms]
        assert rows["size"].tolist() == [t.coef for t in terms]
        assert rows["source"].tolist() == [t.source for t in terms]
    assert table["source"].str.len().gt(0).all(), "every effect says where it comes from"
    assert table.loc[table["source"].str.startswith("assumption"), "assumption"].all()
    drug = table.set_index("characteristic").loc["drug_effect"]
    assert drug["size"] == m.response.drug_effect and drug["outcome"] == "response"
    for name, rates in m.adverse.events.items():
        row = table[table["outcome"] == f"ae_{name}"]
        assert row["size"].tolist() == [rates.active]
    assert isinstance(table, pd.DataFrame) and table["scale"].notna().all()


def test_the_readme_lists_every_term_as_the_model_has_it(root, specs) -> None:
    readme = (root / "README.md").read_text()
    assert effects_markdown(specs.model) in readme, "regenerate the README's table of terms"
