"""MLflow pyfunc adapter: the registered model takes the scoring schema's raw inputs and
returns a probability column (p_response or p_relapse), never labels."""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

from ketapredict.contract import PROBABILITY
from ketapredict.model import KetaModel

MODEL_ARTIFACT = "model"


class KetaPyfunc(mlflow.pyfunc.PythonModel):
    """Loads the KetaModel stored as the `model` artifact; predict -> DataFrame of probabilities."""

    def load_context(self, context: Any) -> None:
        self.model = KetaModel.load(context.artifacts[MODEL_ARTIFACT])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        p = self.model.predict_proba(model_input)
        return pd.DataFrame({PROBABILITY[self.model.task]: p}, index=model_input.index)
