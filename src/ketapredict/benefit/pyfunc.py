"""MLflow pyfunc adapters of the benefit models: raw inputs (features.BENEFIT_INPUTS) in, a
`benefit` column (risk difference of response at 24 h, ketamine minus the comparator) out.
BenefitPyfunc serves the champion's form (benefit.model); LearnerPyfunc any fitted learner as
saved by benefit.persist (skops, its own allowlist), for each learner's registered family."""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

from ketapredict.benefit.model import BenefitModel
from ketapredict.features import BENEFIT_INPUTS, matrix_of

MODEL_ARTIFACT = "model"
OUTPUT = "benefit"


class BenefitPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the BenefitModel stored as the `model` artifact; predict -> DataFrame of benefit."""

    def load_context(self, context: Any) -> None:
        self.model = BenefitModel.load(context.artifacts[MODEL_ARTIFACT])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return pd.DataFrame({OUTPUT: self.model.predict(model_input)}, index=model_input.index)


class LearnerPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the learner saved as the `model` artifact; predict -> DataFrame of its estimate
    (the naive "prognostic" learner's: its predicted response on ketamine)."""

    def load_context(self, context: Any) -> None:
        from ketapredict.benefit.persist import load_learner

        self.learner = load_learner(context.artifacts[MODEL_ARTIFACT])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        X = matrix_of(model_input, BENEFIT_INPUTS, f"the {self.learner.name} learner")
        return pd.DataFrame({OUTPUT: self.learner.effect(X)}, index=model_input.index)
