"""MLflow pyfunc adapter of the registered benefit model: raw inputs (benefit.data.INPUTS) in,
a `benefit` column (risk difference of response at 24 h, ketamine minus the comparator) out."""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

from ketapredict.benefit.model import BenefitModel

MODEL_ARTIFACT = "model"
OUTPUT = "benefit"


class BenefitPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the BenefitModel stored as the `model` artifact; predict -> DataFrame of benefit."""

    def load_context(self, context: Any) -> None:
        self.model = BenefitModel.load(context.artifacts[MODEL_ARTIFACT])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return pd.DataFrame({OUTPUT: self.model.predict(model_input)}, index=model_input.index)
