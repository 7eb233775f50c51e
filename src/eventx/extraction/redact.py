"""Keeping credentials out of messages built from what an endpoint sent back.

Some proxies and gateways echo the request's ``Authorization`` header, or the key
itself, in their error bodies. eventx builds error messages from those bodies, and
the messages reach outputs, run stores, reports and logs, so every such message is
passed through :func:`redact` first.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8
"""Shorter configured keys (placeholders such as ``replay``) are not searched for."""

_CREDENTIALS = re.compile(
    r"\bbearer\s+[\w.~+/=-]{12,}"  # an Authorization header's value
    r"|\bsk-[\w-]{8,}",  # an OpenAI-style secret key
    re.IGNORECASE,
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with the given ``secrets``, bearer credentials and ``sk-`` keys replaced
    by :data:`REDACTED`."""
    text = _CREDENTIALS.sub(REDACTED, text)
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    return text


def scrub_error(error: BaseException, secrets: Iterable[str | None] = ()) -> None:
    """Redact an exception in place: its arguments, and the ``message`` and ``body`` an
    API error carries, so that whoever logs or prints it later sees no credentials."""
    secrets = tuple(secrets)
    error.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in error.args)
    message = getattr(error, "message", None)
    if isinstance(message, str):
        setattr(error, "message", redact(message, secrets))  # noqa: B010 - not every error has it
    body = getattr(error, "body", None)
    if body is not None:
        with contextlib.suppress(TypeError, ValueError):
            setattr(error, "body", json.loads(redact(json.dumps(body), secrets)))  # noqa: B010
