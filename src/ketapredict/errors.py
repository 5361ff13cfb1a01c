"""Typed errors: the core raises these, the CLI turns them into one clear line."""


class KetapredictError(Exception):
    """Base class for every error a user can cause and fix."""

    exit_code = 1


class ConfigError(KetapredictError):
    """params.yaml is missing, malformed, or holds an unknown key or a bad value."""


class SpecError(KetapredictError):
    """A trial or effect-model specification is invalid."""


class DataError(KetapredictError):
    """Input data is missing, unreadable, or does not match the expected schema."""


class InputValidationError(DataError):
    """Rows of a scoring input break the feature schema."""

    exit_code = 2


class ModelError(KetapredictError):
    """A model cannot be found, loaded, or does not match the feature schema."""


class TrackingError(KetapredictError):
    """MLflow cannot be reached or refuses an operation."""


class LeakageError(KetapredictError):
    """A model's inputs include something measured after the time the model is used."""


class InputFileError(DataError):
    """A scoring input or output file cannot be used: missing, empty, unreadable, wrong format
    or encoding. Exit code 2, like invalid rows: the user's file needs fixing."""

    exit_code = 2
