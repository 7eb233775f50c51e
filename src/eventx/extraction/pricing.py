"""Cost estimates from token usage.

Prices are USD per million tokens (input, output) as published by the providers for
standard (non-batch) requests; they change, so treat estimates as estimates. A model
not listed here gets no estimate (``cost_usd`` is null). Dated snapshot names
(``gpt-4.1-mini-2025-04-14``) are priced like their base name.
"""

from __future__ import annotations

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


def estimate_cost(model: str, usage: Usage) -> float | None:
    """Estimated USD cost of ``usage`` on ``model``; None when the price is unknown."""
    price = price_of(model)
    if price is None:
        return None
    cost = usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]
    return round(cost / 1_000_000, 6)
