"""The one package that talks to MLflow: runs (runs.py, models.py) and the model registry
(registry.py) over a shared store (store.py). Importing it imports no MLflow."""

from ketapredict.tracking.models import log_ketapredict_model, log_sklearn_model
from ketapredict.tracking.registry import (
    DECISION_TAG,
    UNDECIDED,
    champion_version,
    crown,
    download_version,
    fetch_model,
    model_provenance,
    register,
    tag_version,
)
from ketapredict.tracking.runs import (
    close_orphans,
    flatten_params,
    has_run,
    log_dict_artifact,
    log_figure,
    log_file_artifact,
    log_metrics,
    log_params,
    log_text_artifact,
    resume_run,
    set_tags,
    start_run,
)
from ketapredict.tracking.store import HOST_TAG, PID_TAG, URI_ENV, git_commit, tracking_uri

__all__ = [
    "DECISION_TAG",
    "HOST_TAG",
    "PID_TAG",
    "UNDECIDED",
    "URI_ENV",
    "champion_version",
    "close_orphans",
    "crown",
    "download_version",
    "fetch_model",
    "flatten_params",
    "git_commit",
    "has_run",
    "log_dict_artifact",
    "log_figure",
    "log_file_artifact",
    "log_ketapredict_model",
    "log_metrics",
    "log_params",
    "log_sklearn_model",
    "log_text_artifact",
    "model_provenance",
    "register",
    "resume_run",
    "set_tags",
    "start_run",
    "tag_version",
    "tracking_uri",
]
