"""Power-aware verdicts end to end: generator → real broker → worker → `drift` table.

Two stream keys of the same stationary traffic, one with 10 events per window and one with
500. The thin key's windows cannot detect the configured minimum effect (a 30 % share of a
new topic), so every one of its drift rows says ``insufficient_data`` — never ``no_drift`` —
with its minimum detectable effect above the setting; the busy key's windows say
``no_drift`` with an effect below it. No alert fires on either.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from streams.settings import DriftSettings
from streams.testing.generator import GeneratorConfig, TrafficGenerator, to_json_line
from streams.testing.publish import stream_key
from tests.support.workers import Deployment, produce_raw

WINDOW = 10  # seconds of event time
START = datetime(2026, 6, 1, 8, 0, 0, tzinfo=UTC)
THIN, BUSY = ("thin-app", "thin-model"), ("busy-app", "busy-model")
# events per second, seconds of event time: the first windows holding REFERENCE_EVENTS are
# each key's reference, the rest are tested (15 + 3 thin windows, 1 + 2 busy ones)
TRAFFIC = {THIN: (1, 180), BUSY: (50, 30)}
ENV = {
    "SEISMO_WINDOW_SECONDS": str(WINDOW),
    "SEISMO_ALLOWED_LATENESS_SECONDS": "1",
    "SEISMO_IDLE_CLOSE_SECONDS": "3",
    "SEISMO_REFERENCE_EVENTS": "150",
    "SEISMO_REFERENCE_SAMPLE": "150",
    "SEISMO_DRIFT_FIELDS": "prompt",
    "SEISMO_BATCH_SIZE": "500",
}
DRIFT_METHODS = {"mmd", "centroid_cosine", "cluster_share"}


def publish(dep: Deployment) -> int:
    lines, keys = [], []
    for seed, ((app, model), (rate, seconds)) in enumerate(TRAFFIC.items()):
        config = GeneratorConfig(seed=seed, start=START, events_per_second=rate,
                                 apps=("support-bot",))
        for event in TrafficGenerator(config).events(rate * seconds):
            event.update(app=app, model=model)
            lines.append(to_json_line(event))
            keys.append(stream_key(event))
    produce_raw(dep.bootstrap, dep.traces_topic, lines, keys=keys)
    return len(lines)


def test_ten_events_per_window_is_insufficient_data_and_500_is_not(deployment) -> None:
    deployment.extra_env.update(ENV)
    published = publish(deployment)
    deployment.start()
    windows = sum(seconds // WINDOW for _, seconds in TRAFFIC.values())
    deployment.wait_rows("SELECT count() FROM window_metrics FINAL", windows, timeout=480)
    assert deployment.scalar("SELECT sum(events) FROM window_metrics FINAL") == published

    rows = deployment.query(
        "SELECT app, model, method, verdict, drifted, min_detectable_effect, n_test, n_events "
        "FROM drift FINAL WHERE field = 'prompt' AND method IN {methods:Array(String)}",
        {"methods": sorted(DRIFT_METHODS)},
    )
    by_key: dict[tuple[str, str], list[list]] = {THIN: [], BUSY: []}
    for row in rows:
        by_key[(row[0], row[1])].append(row)
    min_effect = DriftSettings().drift_min_effect
    thin, busy = by_key[THIN], by_key[BUSY]
    # every tested window of both keys has one row per drift method
    assert len(thin) == 3 * len(DRIFT_METHODS) and len(busy) == 2 * len(DRIFT_METHODS)
    assert {r[2] for r in thin} == {r[2] for r in busy} == DRIFT_METHODS

    assert all(r[6] == r[7] == 10 for r in thin), thin
    assert {r[3] for r in thin} == {"insufficient_data"}, thin
    assert all(not r[4] and r[5] > min_effect for r in thin), thin

    assert all(r[6] == r[7] == 500 for r in busy), busy
    assert "insufficient_data" not in {r[3] for r in busy}, busy
    assert all(r[3] == ("drift" if r[4] else "no_drift") for r in busy), busy
    assert all(math.isfinite(r[5]) and r[5] < min_effect for r in busy), busy

    # stationary traffic: thin windows page nobody, and no busy window drifted twice in a row
    assert deployment.scalar("SELECT count() FROM alerts FINAL WHERE state = 'firing' "
                             "AND rule = 'PromptEmbeddingDrift'") == 0
