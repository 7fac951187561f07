"""Synthetic LLM traffic: seeded, deterministic trace events (schema v1) for demos and tests.

>>> from datetime import datetime, UTC
>>> config = GeneratorConfig(seed=1, start=datetime(2025, 1, 1, tzinfo=UTC), drift_at=60.0)
>>> event = next(TrafficGenerator(config).events(1))
>>> event["timestamp"], event["app"], event["status"]
('2025-01-01T00:00:00.000Z', 'support-bot', 'ok')
"""

from streams.testing.generator.catalog import (
    APPS,
    ERRORS,
    MODELS,
    AppProfile,
    ErrorProfile,
    ModelProfile,
)
from streams.testing.generator.config import GeneratorConfig
from streams.testing.generator.serialize import to_json_line
from streams.testing.generator.topics import DRIFT_TOPIC
from streams.testing.generator.traffic import TOKENS_PER_WORD, TrafficGenerator, count_tokens

__all__ = [
    "APPS",
    "DRIFT_TOPIC",
    "ERRORS",
    "MODELS",
    "TOKENS_PER_WORD",
    "AppProfile",
    "ErrorProfile",
    "GeneratorConfig",
    "ModelProfile",
    "TrafficGenerator",
    "count_tokens",
    "to_json_line",
]
