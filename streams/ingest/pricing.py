"""Cost of a call from the per-model price table in the settings."""

from __future__ import annotations

from collections.abc import Mapping

from streams.settings import ModelPrice


class PriceTable:
    """Looks a model up exactly, else by the longest configured prefix.

    Providers report dated variants (``gpt-4o-mini-2024-07-18``) of a priced model name; the
    prefix match prices them without listing every snapshot.
    """

    def __init__(self, prices: Mapping[str, ModelPrice]) -> None:
        self._prices = dict(prices)
        self._by_length = sorted(self._prices, key=len, reverse=True)
        self._cache: dict[str, ModelPrice | None] = {}

    def lookup(self, model: str) -> ModelPrice | None:
        if model not in self._cache:
            price = self._prices.get(model)
            if price is None:
                price = next(
                    (self._prices[p] for p in self._by_length if model.startswith(p)), None
                )
            self._cache[model] = price
        return self._cache[model]

    def cost(
        self, model: str, prompt_tokens: int | None, completion_tokens: int | None
    ) -> float | None:
        price = self.lookup(model)
        if price is None or (prompt_tokens is None and completion_tokens is None):
            return None
        return (
            (prompt_tokens or 0) * price.input_per_1k
            + (completion_tokens or 0) * price.output_per_1k
        ) / 1000.0
