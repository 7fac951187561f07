"""The traffic generator: a seeded, deterministic stream of trace events (schema v1)."""

from __future__ import annotations

import bisect
import itertools
import math
import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, Generic, TypeVar

from streams.testing.generator import phrases
from streams.testing.generator.catalog import APPS, ERRORS, MODELS, AppProfile, ModelProfile
from streams.testing.generator.config import GeneratorConfig
from streams.testing.generator.templates import SlotFiller, Topic
from streams.testing.generator.topics import DRIFT_TOPIC
from streams.testing.generator.vocabulary import SLOTS

T = TypeVar("T")

#: Tokens per whitespace-separated word, the usual rule of thumb for English BPE tokenizers.
TOKENS_PER_WORD = 1.3
#: Tokens a chat format adds around each message (role markers, separators).
TOKENS_PER_MESSAGE = 4

# Users: ids from a fixed pool, skewed so that a few users send much of the traffic.
_USER_POOL = 5000
# Chance that a user's next call starts a new conversation instead of continuing the last one.
_NEW_CONVERSATION = 0.4
# Share of toxic events in which the model, not the user, is abusive (only where the call
# succeeded with an answer; otherwise the user's prompt carries the abuse).
_TOXIC_COMPLETION_SHARE = 0.3

_CLIENTS = ("web", "ios", "android", "api")
_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")


class _Picker(Generic[T]):
    """Weighted choice with the cumulative weights computed once."""

    def __init__(self, items: Sequence[tuple[T, float]]) -> None:
        self.values = [value for value, _ in items]
        self.cum_weights = list(itertools.accumulate(weight for _, weight in items))

    def __call__(self, rng: random.Random) -> T:
        return self.values[bisect.bisect(self.cum_weights, rng.random() * self.cum_weights[-1])]


class _AppPlan:
    """One app's weighted choices, built once."""

    def __init__(self, app: AppProfile) -> None:
        self.app = app
        self.topic = _Picker(app.topics)
        self.model = _Picker([(MODELS[name], weight) for name, weight in app.models])
        self.version = _Picker([((v, prompt), weight) for v, weight, prompt in app.system_prompts])


class TrafficGenerator:
    """Stream of realistic trace events, identical for identical configs.

    The generator is a stream: successive :meth:`events` calls continue where the previous
    one stopped (event times, conversations), so ``events(100)`` twice yields the same events
    as ``events(200)`` once. Prompt pools from :meth:`prompts` come from a separate child
    generator of the same seed, so drawing them does not change the event stream.

    Parameters
    ----------
    config : GeneratorConfig
        What to simulate.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> gen = TrafficGenerator(GeneratorConfig(seed=7, start=datetime(2025, 1, 1, tzinfo=UTC)))
    >>> [e["timestamp"] for e in gen.events(2)]
    ['2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.020Z']
    """

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self._filler = SlotFiller(SLOTS)
        names = config.apps if config.apps is not None else tuple(APPS)
        self._apps = _Picker([(_AppPlan(APPS[name]), APPS[name].share) for name in names])
        self._errors = _Picker([(error, error.share) for error in ERRORS])
        self._reset()

    def _reset(self) -> None:
        # One seed, two child streams: events and prompt pools never consume each other's draws.
        root = random.Random(self.config.seed)
        self._rng = random.Random(root.getrandbits(64))
        self._pool_rng = random.Random(root.getrandbits(64))
        self._index = 0
        self._conversations: dict[tuple[str, str], list[Any]] = {}

    def events(self, n: int) -> Iterator[dict[str, Any]]:
        """Iterate over the next ``n`` events of the stream, in event-time order.

        Raises
        ------
        ValueError
            If ``n`` is negative.
        """
        _check_count(n)
        return self._stream(n)

    def _stream(self, n: int) -> Iterator[dict[str, Any]]:
        for _ in range(n):
            event = self._event(self._index)
            self._index += 1
            yield event

    def prompts(self, n: int, *, drifted: bool = False) -> list[str]:
        """Draw ``n`` user prompts, from the stable topic mix or only from the drift topic.

        The texts are what users type (no system prompt, abuse or contact data), for tests
        that need a realistic pool of prompts, e.g. a reference and a drifted sample.
        """
        _check_count(n)
        rng = self._pool_rng
        texts = []
        for _ in range(n):
            topic = DRIFT_TOPIC if drifted else self._apps(rng).topic(rng)
            texts.append(self._exchange(rng, topic, with_answer=False)[0])
        return texts

    # --- one event --------------------------------------------------------------------------

    def _event(self, index: int) -> dict[str, Any]:
        cfg = self.config
        rng = self._rng
        offset_s = index / cfg.events_per_second
        plan = self._apps(rng)
        app = plan.app
        model = plan.model(rng)
        version, system_prompt = plan.version(rng)
        # One uniform per decision, drawn up front. The latency spike draws nothing, so a spiked
        # stream differs from the same stream without spike in its latencies only.
        u_drift, u_toxic, u_pii, u_error, u_refusal, u_chat = (rng.random() for _ in range(6))

        drifted = cfg.drift_at is not None and offset_s >= cfg.drift_at
        topic = DRIFT_TOPIC if drifted and u_drift < cfg.drift_fraction else plan.topic(rng)
        contact = phrases.contact_sentence(rng) if u_pii < cfg.pii_rate else ""
        user_text, answer = self._exchange(rng, topic, with_answer=True, contact=contact)

        failed = u_error < cfg.error_rate
        refused = not failed and u_refusal < cfg.refusal_rate
        if u_toxic < cfg.toxic_rate:
            if not failed and not refused and rng.random() < _TOXIC_COMPLETION_SHARE:
                answer = _choice(rng, phrases.TOXIC_COMPLETIONS)
            else:
                opener = _choice(rng, phrases.TOXIC_OPENERS)
                closer = _choice(rng, phrases.TOXIC_CLOSERS)
                user_text = f"{opener} {user_text} {closer}"
                answer = f"{_choice(rng, phrases.DEESCALATIONS)} {answer}"
        if refused:
            answer = _choice(rng, phrases.REFUSALS)
        completion = "" if failed else answer

        prompt: str | list[dict[str, str]] = user_text
        if u_chat < app.chat_share:
            prompt = [
                {"role": "system", "content": system_prompt},
                {"role": "user", "content": user_text},
            ]
        completion_tokens = count_tokens(completion)
        spike = cfg.latency_spike_at is not None and offset_s >= cfg.latency_spike_at
        factor = cfg.latency_spike_factor if spike else 1.0

        event: dict[str, Any] = {
            "schema_version": "1",
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "timestamp": self._timestamp(index),
            "environment": "prod",
            "app": app.name,
            "provider": model.provider,
            "model": model.name,
            "prompt_template": app.prompt_template,
            "prompt_version": version,
            "temperature": _choice(rng, app.temperatures),
            "prompt": prompt,
            "completion": completion,
            "prompt_tokens": count_tokens(prompt),
            "completion_tokens": completion_tokens,
        }
        if failed:
            error = self._errors(rng)
            latency = _lognormal(rng, error.latency_median_ms, error.latency_sigma)
            event["latency_ms"] = round(latency * factor, 1)
            event["status"] = "error"
            event["error_type"] = error.error_type
        else:
            ttft, latency = _call_duration(rng, model, completion_tokens)
            event["latency_ms"] = round(latency * factor, 1)
            event["ttft_ms"] = round(ttft * factor, 1)
            event["status"] = "ok"
        user_id, conversation_id, turn = self._conversation(rng, app.name)
        event["user_id"] = user_id
        event["conversation_id"] = conversation_id
        event["trace_id"] = f"{rng.getrandbits(128) or 1:032x}"
        event["span_id"] = f"{rng.getrandbits(64) or 1:016x}"
        event["metadata"] = {
            "topic": topic.name,
            "client": _choice(rng, _CLIENTS),
            "region": _choice(rng, _REGIONS),
            "turn": str(turn),
        }
        return event

    def _exchange(
        self, rng: random.Random, topic: Topic, *, with_answer: bool, contact: str = ""
    ) -> list[str]:
        """A user text and (optionally) its answer, from one intent with one draw of slots.

        ``contact`` (a sentence with an e-mail or phone number) goes before the sign-off.
        """
        intent = _choice(rng, topic.intents)
        templates = [_choice(rng, intent.prompts)]
        if with_answer:
            templates.append(_choice(rng, intent.answers))
        texts = list(self._filler.fill(rng, *templates))
        opener, closer = _choice(rng, phrases.OPENERS), _choice(rng, phrases.CLOSERS)
        texts[0] = _join(opener, texts[0], contact, closer)
        if with_answer:
            texts[1] = _join(texts[1], _choice(rng, phrases.ANSWER_CLOSERS))
        return texts

    def _timestamp(self, index: int) -> str:
        offset = timedelta(microseconds=round(index * 1_000_000 / self.config.events_per_second))
        stamp = (self.config.start + offset).isoformat(timespec="milliseconds")
        return stamp.replace("+00:00", "Z")

    def _conversation(self, rng: random.Random, app: str) -> tuple[str, str, int]:
        user_id = f"u{int(_USER_POOL * rng.random() ** 2):05d}"
        key = (app, user_id)
        conversation = self._conversations.get(key)
        if conversation is None or rng.random() < _NEW_CONVERSATION:
            conversation = [f"conv_{rng.getrandbits(48):012x}", 0]
            self._conversations[key] = conversation
        conversation[1] += 1
        return user_id, conversation[0], conversation[1]


def count_tokens(content: str | list[dict[str, str]]) -> int:
    """Token count of a text or a message list, at :data:`TOKENS_PER_WORD`."""
    if isinstance(content, str):
        return round(len(content.split()) * TOKENS_PER_WORD)
    return sum(count_tokens(m["content"]) + TOKENS_PER_MESSAGE for m in content)


def _call_duration(rng: random.Random, model: ModelProfile, tokens: int) -> tuple[float, float]:
    """Time to first token and total latency (ms) of a successful call."""
    ttft = _lognormal(rng, model.ttft_median_ms, model.ttft_sigma)
    decode = _lognormal(rng, 1000.0 * tokens / model.tokens_per_second, model.speed_sigma)
    return ttft, ttft + decode


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(sigma * rng.gauss(0.0, 1.0))


def _check_count(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")


def _choice(rng: random.Random, options: Sequence[T]) -> T:
    # Same distribution as rng.choice for the short sequences used here, at half the cost.
    return options[int(rng.random() * len(options))]


def _join(*parts: str) -> str:
    return " ".join(part for part in parts if part)
