"""Cost estimates from token usage.

Prices are USD per million tokens (input, output) as published by the providers for
standard (non-batch) requests; they change, so treat estimates as estimates. Dated
snapshot names (``gpt-4.1-mini-2025-04-14``) are priced like their base name.

A server on this machine or the local network (loopback, private addresses, ``.local``
names), such as llama.cpp, Ollama or vLLM run by the user, costs nothing per token: its
usage is priced at 0 whatever the model is called. Elsewhere a listed model gets its
list price, and any other model no estimate (``cost_usd`` is null).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from eventx.models import Usage

PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
}


def price_of(model: str) -> tuple[float, float] | None:
    """(input, output) USD per million tokens for ``model``, or None if unknown."""
    name = model.rsplit("/", 1)[-1]
    for known in sorted(PRICES_PER_MILLION, key=len, reverse=True):
        if name == known or name.startswith(known + "-20"):
            return PRICES_PER_MILLION[known]
    return None


def is_local_endpoint(base_url: str | None) -> bool:
    """True for a server on this machine or the local network (nothing paid per token)."""
    host = urlsplit(base_url or "").hostname or ""
    if host == "localhost" or host.endswith((".local", ".localhost")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def estimate_cost(model: str, usage: Usage, base_url: str | None = None) -> float | None:
    """Estimated USD cost of ``usage`` on ``model`` at ``base_url`` (None: OpenAI).

    0 for a local endpoint; None when the price is not known.
    """
    if is_local_endpoint(base_url):
        return 0.0
    price = price_of(model)
    if price is None:
        return None
    cost = usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]
    return round(cost / 1_000_000, 6)
