"""Factory for topic tests: generated support-bot prompts with their true topic and embedding.

The traffic generator labels every event with the topic it was drawn from
(``metadata["topic"]``), so clustering and keyword tests can check against the truth. A
share of the prompts comes from the drift topic (crypto tax), the new topic of a drift
incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from streams.testing.generator import DRIFT_TOPIC, GeneratorConfig, TrafficGenerator
from tests.support.embedding_pool import embed

NEW_TOPIC = DRIFT_TOPIC.name


@dataclass(frozen=True)
class LabelledTexts:
    """User prompts, their topic names and their embeddings (float32, unit norm)."""

    texts: list[str]
    topics: NDArray[np.str_]
    vectors: NDArray[np.float32]


def user_text(prompt: str | list[dict[str, str]]) -> str:
    """The user's words of a generated prompt (a chat prompt also carries a system message)."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(m["content"] for m in prompt if m["role"] == "user")


def build_labelled_texts(
    n: int = 800, *, seed: int = 5, new_topic_share: float = 0.12, cache_dir: Path | None = None
) -> LabelledTexts:
    config = GeneratorConfig(seed=seed, start=datetime(2026, 1, 1, tzinfo=UTC),
                             apps=("support-bot",), drift_at=0.0,
                             drift_fraction=new_topic_share)
    events = list(TrafficGenerator(config).events(n))
    texts = [user_text(e["prompt"]) for e in events]
    topics = np.array([e["metadata"]["topic"] for e in events])
    return LabelledTexts(texts, topics, embed(texts, cache_dir))
