"""Environment defaults, set before MLflow, DVC or matplotlib are imported: no telemetry, no
progress bars, one log format, a plotting backend that needs no display; and, for a model
download, no retries that hide an unreachable server for minutes. A value the user set is
kept."""

from __future__ import annotations

import os

DEFAULTS = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MPLBACKEND": "Agg",
    # MLflow's log lines through our handler and format (it installs its own otherwise)
    "MLFLOW_CONFIGURE_LOGGING": "false",
}
FAIL_FAST = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",  # fail now, not in minutes
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}


def set_defaults(*, fail_fast: bool = False) -> None:
    """Set each default (and FAIL_FAST's too, if asked) the environment does not hold."""
    for name, value in {**DEFAULTS, **(FAIL_FAST if fail_fast else {})}.items():
        os.environ.setdefault(name, value)
