"""MLflow models-from-code entry: copied into each logged model, it names the pyfunc class."""

import mlflow.models

from ketapredict.pyfunc import KetaPyfunc

mlflow.models.set_model(KetaPyfunc())
