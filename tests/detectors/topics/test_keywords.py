"""c-TF-IDF keywords: a topic is named by its own words, not by words every topic shares."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.topics.keywords import STOP_WORDS, class_tfidf, tokenize
from streams.testing.generator import GeneratorConfig, TrafficGenerator
from tests.support.topic_texts import NEW_TOPIC, user_text


@pytest.fixture(scope="module")
def topic_texts() -> tuple[list[str], np.ndarray, list[str]]:
    """600 support-bot prompts with the index of their true topic, and the topic names."""
    config = GeneratorConfig(seed=9, apps=("support-bot",), drift_at=0.0, drift_fraction=0.2)
    events = list(TrafficGenerator(config).events(600))
    names = sorted({e["metadata"]["topic"] for e in events})
    labels = np.array([names.index(e["metadata"]["topic"]) for e in events])
    return [user_text(e["prompt"]) for e in events], labels, names


def test_tokenize_keeps_content_words_only() -> None:
    words = tokenize("Hi! I can't log in since 2024-05-01, my e-mail is a@b.io. ORD-77 THANKS")
    assert words == ["log", "e-mail", "io"]
    assert not set(words) & STOP_WORDS


def test_each_topic_is_named_by_its_own_words(topic_texts) -> None:
    texts, labels, names = topic_texts
    keywords = class_tfidf(texts, labels, len(names), top_n=6)
    words = {name: [w for w, _ in k] for name, k in zip(names, keywords, strict=True)}
    assert {"tax", "taxable", "crypto"} & set(words[NEW_TOPIC][:3])
    assert {"order", "tracking", "shipped"} & set(words["order-status"][:3])
    assert {"log", "account", "password", "sign"} & set(words["account-access"][:3])
    for name, top in words.items():
        assert len(top) == 6 and not set(top) & STOP_WORDS, name
        weights = [w for _, w in keywords[names.index(name)]]
        assert weights == sorted(weights, reverse=True)


def test_words_every_text_carries_never_name_a_topic(topic_texts) -> None:
    texts, labels, names = topic_texts
    branded = [f"{t} Voltline support team" for t in texts]  # a signature in every text
    def words(keywords: list[list[tuple[str, float]]]) -> list[list[str]]:
        return [[w for w, _ in k] for k in keywords]

    # Same keywords in the same order: the signature's words weigh nothing.
    assert words(class_tfidf(branded, labels, len(names))) == words(
        class_tfidf(texts, labels, len(names)))


def test_rare_words_and_empty_classes() -> None:
    texts = ["refund my order", "refund the order", "zyxwv order", "reset password"]
    keywords = class_tfidf(texts, [0, 0, 0, 0], 2)
    assert [w for w, _ in keywords[0]] == ["refund", "order"]  # "zyxwv" occurs once: dropped
    assert keywords[1] == []
    assert class_tfidf(["a b", "c d"], [0, 1], 2) == [[], []]  # nothing left to count


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"labels": [0, 2]}, "labels"), ({"labels": [0]}, "labels"), ({"n_classes": 0}, "n_classes"),
     ({"top_n": 0}, "top_n")],
)
def test_invalid_arguments_are_named(kwargs: dict, message: str) -> None:
    arguments = {"texts": ["a", "b"], "labels": [0, 1], "n_classes": 2, **kwargs}
    with pytest.raises(ValueError, match=rf"^{message}\b"):
        class_tfidf(**arguments)
