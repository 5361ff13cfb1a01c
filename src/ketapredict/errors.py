"""Typed errors: the core raises these, the CLI turns them into one clear line."""

import re

# user:password@ in any URL, and the value of query parameters that carry secrets
# (token, access_token, api_key, password, sig / X-Amz-Signature, X-Amz-Credential, ...)
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#@\s\"'<>]+@")
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&;][^=&;#\s]*(?:token|key|secret|pass|pwd|sig|credential|auth|session)"
    r"[^=&;#\s]*=)[^&;#\s\"'<>]+",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` with every URL's user-info and every secret-looking query value replaced by
    ***: the one helper for messages, logs and metadata files."""
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    return _SECRET_QUERY.sub(r"\g<key>***", text)


def first_line(exc: BaseException, *, limit: int = 300, default: str | None = None) -> str:
    """The first non-empty line of `exc`'s message (at most `limit` characters), else `default`
    or the exception's type name: how other libraries' errors are quoted in ours."""
    lines = str(exc).strip().splitlines()
    return (lines or [default or type(exc).__name__])[0][:limit]


class KetapredictError(Exception):
    """Base class for every error a user can cause and fix. Its text never shows credentials:
    messages quote URIs and other libraries' errors, which may hold them."""

    exit_code = 1

    def __str__(self) -> str:
        return redact(super().__str__())


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
