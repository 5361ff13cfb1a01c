"""MLflow models-from-code entry: copied into each logged benefit learner, it names the class."""

import mlflow.models

from ketapredict.benefit.pyfunc import LearnerPyfunc

mlflow.models.set_model(LearnerPyfunc())
