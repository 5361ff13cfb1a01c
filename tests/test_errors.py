"""Credentials never reach a message, a log line or a file: one redaction helper."""

from __future__ import annotations

import pytest

from ketapredict.errors import KetapredictError, TrackingError, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://alice:s3cret@host:5000/api", "http://***@host:5000/api"),
        (
            "failed: https://tok@h/x and http://a:b@c/d",
            "failed: https://***@h/x and http://***@c/d",
        ),
        ("s3://bucket/m?X-Amz-Signature=abc&x=1", "s3://bucket/m?X-Amz-Signature=***&x=1"),
        ("https://h/p?access_token=abc;sig=def", "https://h/p?access_token=***;sig=***"),
        ('{"uri": "http://u:p@h/x?token=t"}', '{"uri": "http://***@h/x?token=***"}'),
    ],
)
def test_user_info_and_secret_query_values_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["models:/ketapredict-responder@champion", "file:///tmp/a@b/model", "user@example.org", "x=1"],
)
def test_text_without_credentials_is_kept(text: str) -> None:
    assert redact(text) == text


def test_every_ketapredict_error_is_redacted() -> None:
    exc = TrackingError("MLflow failed: http://alice:s3cret@h/api")
    assert "s3cret" not in str(exc) and isinstance(exc, KetapredictError)
