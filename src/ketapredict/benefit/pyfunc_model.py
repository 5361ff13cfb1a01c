"""MLflow models-from-code entry: copied into each logged benefit model, it names the class."""

import mlflow.models

from ketapredict.benefit.pyfunc import BenefitPyfunc

mlflow.models.set_model(BenefitPyfunc())
