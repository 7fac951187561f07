"""Embedding drift end to end: generator → real broker → worker → `drift` table → alert
transition → a real Alertmanager → the on-call webhook.

Seeded traffic with a fixed start time, so every run sees the same events and the same
permutations: this pins the detection windows (a regression test). The statistical
false-alarm and power guarantees are tested on the detectors themselves.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from detectors.topics.keywords import tokenize
from streams.testing.demo_story import SHORT_WINDOWS_ENV
from streams.testing.generator import DRIFT_TOPIC, GeneratorConfig, TrafficGenerator, to_json_line
from streams.testing.publish import stream_key
from tests.support.workers import Deployment, produce_raw, wait_for

WINDOW = int(SHORT_WINDOWS_ENV["SEISMO_WINDOW_SECONDS"])  # seconds of event time
EVENTS_PER_SECOND = 15
DURATION = 120  # stable until DRIFT_AT, then 30 % of prompts on a new topic
DRIFT_AT = 80
# Then this many seconds of the original mix: eight windows, so that a lingering weak p-value
# in the first clean windows (which can push a fired e-detector's evidence back over its
# threshold for a window) still leaves the two clean windows in a row that resolve it.
CLEAN_AGAIN = 80
START = datetime(2026, 5, 4, 9, 0, 0, tzinfo=UTC)

# 10-second windows, small samples, a 30-a-week budget: the demo's settings. This run tests
# the path from drift to page; the budget's own rate is the bench's and the sequential
# detector's tests.
DRIFT_ENV = SHORT_WINDOWS_ENV


def publish(dep: Deployment, config: GeneratorConfig, n: int) -> list[dict]:
    events = list(TrafficGenerator(config).events(n))
    produce_raw(dep.bootstrap, dep.traces_topic, [to_json_line(e) for e in events],
                keys=[stream_key(e) for e in events])
    return events


def alerts_by_status(receiver, alertname: str) -> dict[str, float]:
    """First arrival time of each status Alertmanager sent for ``alertname``."""
    seen: dict[str, float] = {}
    for request in receiver.received:
        for alert in request.json()["alerts"]:
            if alert["labels"]["alertname"] == alertname:
                seen.setdefault(alert["status"], request.at)
    return seen


def new_topic_words(events: list[dict]) -> set[str]:
    """Words of the new topic's prompts that no other prompt of the run uses."""
    words: dict[bool, set[str]] = {True: set(), False: set()}
    for e in events:
        words[e["metadata"]["topic"] == DRIFT_TOPIC.name] |= set(tokenize(json.dumps(e["prompt"])))
    return words[True] - words[False]


def check_topics(deployment: Deployment, events: list[dict], keys: set[tuple[str, str]]) -> None:
    """Every embedded row carries its reference's topic cluster and 2-D projection, and the
    cluster-share test names the new topic as the cluster that grew."""
    [[embedded, placed]] = deployment.query(
        "SELECT count(), countIf(cluster >= 0 AND isFinite(x) AND isFinite(y)) "
        "FROM embeddings FINAL")
    assert embedded > 0 and placed == embedded
    rows = deployment.query(
        "SELECT app, model, toUnixTimestamp(window_start) - {t0:Int64} AS offset, drifted, "
        "changed_clusters FROM drift FINAL WHERE method = 'cluster_share' AND field = 'prompt' "
        "ORDER BY app, model, offset",
        {"t0": int(START.timestamp())},
    )
    before = [r for r in rows if r[2] + WINDOW <= DRIFT_AT]
    after = [r for r in rows if DRIFT_AT <= r[2] < DURATION]
    assert before and not any(r[3] for r in before), before
    distinct = new_topic_words(events)
    for app, model in keys:
        named = [r[4] for r in after
                 if (r[0], r[1]) == (app, model) and r[3] and r[4].startswith("grew: ")]
        assert named, f"no grown topic named for {app}/{model}"
        for line in named:
            grown = line.split(" | ")[0].removeprefix("grew: ").split("; ")[0]
            assert distinct & set(tokenize(grown)), (line, sorted(distinct)[:20])


def test_topic_shift_is_detected_alerted_and_resolved(
    deployment, receiver_factory, alertmanager_factory
) -> None:
    receiver = receiver_factory()
    alertmanager = alertmanager_factory(receiver.url)
    deployment.extra_env.update(DRIFT_ENV, SEISMO_ALERTMANAGER_URLS=alertmanager.url)
    config = GeneratorConfig(seed=7, start=START, events_per_second=EVENTS_PER_SECOND,
                             drift_at=DRIFT_AT, apps=("support-bot",))
    events = publish(deployment, config, DURATION * EVENTS_PER_SECOND)
    clean = GeneratorConfig(seed=8, start=START + timedelta(seconds=DURATION),
                            events_per_second=EVENTS_PER_SECOND, apps=("support-bot",))
    events += publish(deployment, clean, CLEAN_AGAIN * EVENTS_PER_SECOND)
    keys = {(e["app"], e["model"]) for e in events}
    deployment.start()

    windows_per_key = (DURATION + CLEAN_AGAIN) // WINDOW
    deployment.wait_rows("SELECT count() FROM window_metrics FINAL",
                         windows_per_key * len(keys), timeout=480)
    rows = deployment.query(
        "SELECT app, model, toUnixTimestamp(window_start) - {t0:Int64} AS offset, p_value, "
        "drifted, n_ref, n_test, n_events, sampled_fraction "
        "FROM drift FINAL WHERE method = 'mmd' AND field = 'prompt' ORDER BY app, model, offset",
        {"t0": int(START.timestamp())},
    )
    assert {(r[0], r[1]) for r in rows} == keys
    before = [r for r in rows if r[2] + WINDOW <= DRIFT_AT]
    after = [r for r in rows if DRIFT_AT <= r[2] < DURATION]
    assert before and all(not r[4] and r[3] > 0.01 for r in before), before
    for app, model in keys:
        first_two = [r for r in after if (r[0], r[1]) == (app, model)][:2]
        assert any(r[4] for r in first_two), f"no drift for {app}/{model} in {first_two}"
    # Every result says what it was computed from.
    assert all(r[5] >= 20 and r[6] >= 20 and 0 < r[8] <= 1 and r[7] >= r[6] for r in rows)
    check_topics(deployment, events, keys)
    # Windows closed once: one metrics row per window and key, counting every event.
    assert deployment.scalar("SELECT sum(events) FROM window_metrics FINAL") == len(events)
    assert deployment.scalar("SELECT count() FROM window_metrics") == windows_per_key * len(keys)

    # On-call hears of it once the drift held for two windows, and again when it is over.
    wait_for(lambda: "resolved" in alerts_by_status(receiver, "PromptEmbeddingDrift"), 120,
             "the resolved notification")
    arrivals = alerts_by_status(receiver, "PromptEmbeddingDrift")
    first_drift_closed = deployment.scalar(
        "SELECT toUnixTimestamp64Milli(min(computed_at)) / 1000 FROM drift FINAL "
        "WHERE method = 'mmd' AND field = 'prompt' AND drifted")
    print(f"\nfirst drifted window closed → firing webhook: "
          f"{arrivals['firing'] - first_drift_closed:.1f} s")
    assert arrivals["firing"] < arrivals["resolved"]
    fired = {a["labels"]["alertname"] for r in receiver.received for a in r.json()["alerts"]}
    assert fired == {"PromptEmbeddingDrift"}, fired  # clean signals page nobody
    # Each key resolves at its own window close: the first resolved page may be one key's.
    deployment.wait_rows("SELECT count() FROM alerts FINAL WHERE rule = 'PromptEmbeddingDrift' "
                         "AND state = 'resolved'", len(keys), timeout=60)
    transitions = deployment.query(
        "SELECT state, count() FROM alerts FINAL WHERE rule = 'PromptEmbeddingDrift' "
        "GROUP BY state ORDER BY state")
    assert dict(transitions)["firing"] == len(keys) == dict(transitions)["resolved"]
