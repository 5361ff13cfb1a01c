"""Models logged to the active run: the KetaModel as an MLflow pyfunc model and the logistic
baseline as a scikit-learn one, each with its signature and pinned requirements."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from ketapredict.tracking.runs import require_active_run
from ketapredict.tracking.store import project_root, translated


def log_ketapredict_model(
    model_dir: Path,
    *,
    input_example: Any,
    signature_input: Any,
    output_column: str,
    entry: Path | None = None,
    name: str = "model",
    required: Collection[str] | None = None,
) -> str:
    """Log a KetaModel folder (or with `entry`, the models-from-code file of another pyfunc
    class, e.g. the benefit model's) as an MLflow pyfunc model `name` of the active run; return
    its URI. The folder's artifact is named `model` either way. `required`: the inputs a row
    must have; the signature marks the others optional (missing values are legal inputs)."""
    import mlflow
    from mlflow.models import infer_signature

    from ketapredict import pyfunc

    require_active_run("log the model")
    # the models-from-code file beside pyfunc.py, copied into the model: it names the class
    # (imported, it would register a model)
    entry = entry or Path(pyfunc.__file__).with_name("pyfunc_model.py")
    output = signature_input.iloc[:2, :0].assign(**{output_column: 0.5})
    signature = infer_signature(signature_input, output)
    if required is not None:
        signature = _optional_inputs(signature, set(required))
    source, root = Path(model_dir).resolve(), project_root()
    # MLflow writes the artifact's path as given into MLmodel: relative to the project (and
    # logged from there), it names no folder of this machine
    artifact = str(source)
    where: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if root is not None and source.is_relative_to(root):
        artifact, where = source.relative_to(root).as_posix(), contextlib.chdir(root)
    with translated("log the model"), where:
        info = mlflow.pyfunc.log_model(
            name=name,
            python_model=str(entry),
            artifacts={pyfunc.MODEL_ARTIFACT: artifact},
            signature=signature,
            input_example=input_example,
            pip_requirements=_requirements(),
        )
    return info.model_uri


def _optional_inputs(signature: Any, required: set[str]) -> Any:
    """The signature with every input not in `required` optional: `mlflow models predict`
    then takes a file that leaves them out, as `ketapredict score` does."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    columns = [
        ColSpec(c.type, c.name, required=c.name in required) for c in signature.inputs.inputs
    ]
    return ModelSignature(inputs=Schema(columns), outputs=signature.outputs)


def log_sklearn_model(model: Any, *, name: str, signature_input: Any) -> str:
    """Log a scikit-learn model (the logistic baseline) with skops serialisation."""
    import mlflow
    from mlflow.models import infer_signature

    from ketapredict.baseline import BASELINE_TYPES

    require_active_run(f"log {name}")
    signature = infer_signature(
        signature_input, model.predict_proba(signature_input.iloc[:5])[:, 1]
    )
    with translated(f"log {name}"):
        info = mlflow.sklearn.log_model(
            model,
            name=name,
            serialization_format="skops",
            signature=signature,
            pyfunc_predict_fn="predict_proba",
            # the fixed list, not whatever the file holds: mlflow.sklearn.load_model trusts it
            skops_trusted_types=list(BASELINE_TYPES),
            pip_requirements=_requirements(),
        )
    return info.model_uri


def _requirements() -> list[str]:
    from importlib.metadata import version

    names = ("ketapredict", "lightgbm", "numpy", "pandas", "scipy", "scikit-learn", "skops")
    return [f"{n}=={version(n)}" for n in names]
