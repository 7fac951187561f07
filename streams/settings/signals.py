"""The ``signals`` section: per-event scores, the window change tests on them, and prices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streams.exceptions import ConfigError
from streams.settings.base import Section, check, setting


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per 1,000 tokens."""

    input_per_1k: float
    output_per_1k: float


# Published list prices at the time of writing; override per deployment in the TOML file.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(0.00015, 0.0006),
    "gpt-4o": ModelPrice(0.0025, 0.01),
    "claude-3-5-haiku": ModelPrice(0.0008, 0.004),
    "claude-3-5-sonnet": ModelPrice(0.003, 0.015),
    "llama-3.1-8b": ModelPrice(0.00005, 0.00008),
}


@dataclass(frozen=True, slots=True)
class SignalSettings(Section):
    signal_alpha: float = setting(0.001, "level of each per-window change test")
    toxicity_threshold: float = setting(0.5, "a toxicity score at least this counts an event "
                                             "as toxic")
    injection_threshold: float = setting(
        0.75, "an injection score at least this counts an event as an injection attempt")
    toxicity_model_dir: str = setting(
        "", "a local Hugging Face text-classification model directory (empty: the packaged "
        "`alt-profanity-check`)")
    max_rates: Mapping[str, float] = setting(
        factory=dict, shown="none", toml_only=True,
        doc="absolute rate limits per signal, e.g. `toxicity = 0.05`")
    slo_p95_ms: Mapping[str, float] = setting(
        factory=dict, shown="none", toml_only=True, doc="p95 latency objective per app, in ms")
    prices: Mapping[str, ModelPrice] = setting(
        factory=lambda: dict(DEFAULT_PRICES), shown="a few public list prices", toml_only=True,
        doc='USD per 1,000 tokens, `[seismo.prices."my-model"] input_per_1k = 0.001, '
            "output_per_1k = 0.002`; dated variants match by prefix")

    def __post_init__(self) -> None:
        check(0 < self.signal_alpha < 1, "signal_alpha", "must be between 0 and 1")
        for name in ("toxicity_threshold", "injection_threshold"):
            check(0 <= getattr(self, name) <= 1, name, "must be between 0 and 1")


def read_prices(table: Any) -> dict[str, ModelPrice]:
    """The TOML ``prices`` table over the default prices."""
    prices = dict(DEFAULT_PRICES)
    if not isinstance(table, dict):
        raise ConfigError("prices", "must be a table of model = {input_per_1k, output_per_1k}")
    for model, entry in table.items():
        try:
            prices[model] = ModelPrice(float(entry["input_per_1k"]), float(entry["output_per_1k"]))
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                f"prices.{model}", "needs numeric input_per_1k and output_per_1k"
            ) from None
    return prices


def read_numbers(name: str, table: Any) -> dict[str, float]:
    """A TOML table of name = number (``max_rates``, ``slo_p95_ms``)."""
    if not isinstance(table, dict):
        raise ConfigError(name, "must be a table of name = number")
    try:
        return {str(k): float(v) for k, v in table.items()}
    except (TypeError, ValueError):
        raise ConfigError(name, "every value must be a number") from None


#: How each TOML-only table is read.
TABLE_READERS = {
    "prices": lambda raw: read_prices(raw),
    "max_rates": lambda raw: read_numbers("max_rates", raw),
    "slo_p95_ms": lambda raw: read_numbers("slo_p95_ms", raw),
}
