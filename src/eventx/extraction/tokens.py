"""Token estimates of chat requests, for rate limits and per-article budgets.

The estimate of a text is :func:`eventx.ingest.tokens.count_tokens` (chunking needs it
too, so it lives in the lower layer); this module adds the framing of chat messages.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from eventx.ingest.tokens import MAX_TOKENS_PER_CHAR, count_tokens

__all__ = ["MAX_TOKENS_PER_CHAR", "TOKENS_PER_MESSAGE", "count_message_tokens", "count_tokens"]

TOKENS_PER_MESSAGE = 4
"""Per-message framing tokens of the chat format (role, separators)."""

CACHED_CHARS = 20_000
"""Message contents up to this long are estimated once (every request repeats the
instructions); longer ones, which are rarely repeated, are not kept."""


def count_message_tokens(messages: Iterable[dict[str, Any]]) -> int:
    """Estimated prompt tokens of chat ``messages``, framing included."""
    total = 3  # every reply is primed with <|start|>assistant<|message|>
    for message in messages:
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        total += TOKENS_PER_MESSAGE + _content_tokens(text)
    return total


def _content_tokens(text: str) -> int:
    return _cached_tokens(text) if len(text) <= CACHED_CHARS else count_tokens(text)


@functools.lru_cache(maxsize=64)
def _cached_tokens(text: str) -> int:
    return count_tokens(text)
