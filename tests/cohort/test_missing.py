"""Dropout and missing covariate values follow the spec's rate and mechanism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special
from sklearn.linear_model import LogisticRegression

from ketapredict.cohort.missing import draw_dropout, mask_covariates, missing_probability
from ketapredict.cohort.population import draw_covariates
from ketapredict.cohort.specs import Dropout, Missingness

N = 40_000


@pytest.fixture(scope="module")
def covariates(specs) -> pd.DataFrame:
    return draw_covariates(specs.population, N, np.random.default_rng(11))


def _z(x: pd.Series) -> np.ndarray:
    return ((x - x.mean()) / x.std(ddof=0)).to_numpy()


def test_mcar_probability_is_the_rate_and_zero_rate_is_nobody(covariates) -> None:
    p = missing_probability(Dropout(rate=0.3), covariates)
    assert (p == 0.3).all()
    assert (missing_probability(Dropout(), covariates) == 0).all()


def test_mar_probability_averages_to_the_rate_with_the_set_slope_per_sd(covariates) -> None:
    rule = Dropout(rate=0.2, mechanism="mar", depends_on="age", strength=1.0)
    p = missing_probability(rule, covariates)
    assert p.mean() == pytest.approx(0.2, abs=1e-8)
    slope = np.polyfit(_z(covariates["age"]), special.logit(p), 1)[0]
    assert slope == pytest.approx(1.0, abs=1e-6)


def test_dropout_rate_and_times_match_the_spec(covariates) -> None:
    horizon = np.full(N, 100.0)
    when = draw_dropout(Dropout(rate=0.3), covariates, horizon, np.random.default_rng(5))
    dropped = np.isfinite(when)
    assert dropped.mean() == pytest.approx(0.3, abs=0.01)
    assert when[dropped].min() >= 0 and when[dropped].max() < 100
    assert when[dropped].mean() == pytest.approx(50, abs=1.0), "uniform over the trial"
    for column in ("age", "baseline_madrs", "bmi"):
        assert abs(np.corrcoef(dropped, covariates[column])[0, 1]) < 0.02


def test_mar_dropout_depends_on_the_named_covariate(covariates) -> None:
    rule = Dropout(rate=0.2, mechanism="mar", depends_on="age", strength=1.0)
    when = draw_dropout(rule, covariates, np.full(N, 100.0), np.random.default_rng(6))
    dropped = np.isfinite(when)
    assert dropped.mean() == pytest.approx(0.2, abs=0.01)
    fit = LogisticRegression(C=1e6).fit(_z(covariates["age"])[:, None], dropped)
    assert fit.coef_[0, 0] == pytest.approx(1.0, abs=0.08)


def test_missing_values_follow_rate_and_mechanism_and_spare_the_driver(covariates) -> None:
    columns = ["bmi", "family_history_aud", "age"]
    rule = Missingness(rate=0.1, mechanism="mar", depends_on="age", columns=columns)
    masked = mask_covariates(rule, rule.columns, covariates, np.random.default_rng(8))
    for column in ("bmi", "family_history_aud"):
        miss = masked[column].isna()
        assert miss.mean() == pytest.approx(0.1, abs=0.01)
        assert masked.loc[miss, "age"].mean() > masked.loc[~miss, "age"].mean() + 3
    both = masked["bmi"].isna() & masked["family_history_aud"].isna()
    assert both.mean() < 0.03, "columns are masked independently"
    assert masked["age"].notna().all() and masked["female"].notna().all()
    assert covariates["bmi"].notna().all(), "the input is left as it was"


def test_mnar_values_go_missing_more_often_where_they_are_high(covariates) -> None:
    rule = Missingness(rate=0.1, mechanism="mnar", strength=1.0, columns=["bmi", "episode_months"])
    masked = mask_covariates(rule, rule.columns, covariates, np.random.default_rng(9))
    for column in rule.columns:
        miss = masked[column].isna().to_numpy()
        assert miss.mean() == pytest.approx(0.1, abs=0.01), column
        fit = LogisticRegression(C=1e6).fit(_z(covariates[column])[:, None], miss)
        assert fit.coef_[0, 0] == pytest.approx(1.0, abs=0.1), column
    p = missing_probability(rule, covariates, propensity=np.zeros(N))
    assert p.mean() == pytest.approx(0.1, abs=1e-8)


def test_mnar_dropout_takes_the_patients_with_the_worst_outlook(covariates) -> None:
    latent = np.random.default_rng(10).standard_normal(N)
    rule = Dropout(rate=0.2, mechanism="mnar", strength=0.5)
    when = draw_dropout(
        rule, covariates, np.full(N, 100.0), np.random.default_rng(6), propensity=latent
    )
    dropped = np.isfinite(when)
    assert dropped.mean() == pytest.approx(0.2, abs=0.01)
    assert latent[dropped].mean() < latent[~dropped].mean() - 0.2
    fit = LogisticRegression(C=1e6).fit(-latent[:, None], dropped)
    assert fit.coef_[0, 0] == pytest.approx(0.5, abs=0.08)


def test_mnar_dropout_without_the_propensity_is_refused(covariates) -> None:
    rule = Dropout(rate=0.2, mechanism="mnar")
    with pytest.raises(ValueError, match="propensity"):
        draw_dropout(rule, covariates, np.full(N, 100.0), np.random.default_rng(6))


def test_mcar_and_mar_ignore_the_propensity(covariates) -> None:
    horizon = np.full(N, 100.0)
    noise = np.random.default_rng(12).standard_normal(N)
    for rule in (Dropout(rate=0.3), Dropout(rate=0.2, mechanism="mar", depends_on="age")):
        plain = draw_dropout(rule, covariates, horizon, np.random.default_rng(7))
        given = draw_dropout(rule, covariates, horizon, np.random.default_rng(7), propensity=noise)
        np.testing.assert_array_equal(plain, given)
