"""`seismo forget`: a user's or a conversation's rows leave every table that holds them, and no
one else's do; through the running worker while it holds the embedded store, else directly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from detectors.scanners.redaction import Redactor
from schemas.tables import EMBEDDINGS, EVENT_DATA_TABLES, EVENTS, FEEDBACK
from streams.api_tokens import client_token
from streams.settings import load_settings
from streams.store.client import ClickHouseStore
from streams.store.forget import forget, stored_forms
from streams.store.reader import query_worker
from streams.testing.generator import GeneratorConfig, TrafficGenerator, to_json_line
from streams.testing.publish import stream_key
from tests.support.workers import Deployment, produce_raw, wait_for

TABLES = (*EVENT_DATA_TABLES, EVENTS)
WINDOW = 10
EVENTS_PER_SECOND = 20
SECONDS = 40
START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
WORKER_ENV = {
    "SEISMO_WINDOW_SECONDS": str(WINDOW),
    "SEISMO_ALLOWED_LATENESS_SECONDS": "1",
    "SEISMO_IDLE_CLOSE_SECONDS": "3",
    "SEISMO_REFERENCE_EVENTS": "150",
    "SEISMO_DRIFT_FIELDS": "prompt",
    "SEISMO_EMBEDDING_SAMPLE": "30",
    "SEISMO_REFERENCE_SAMPLE": "150",
}


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseStore]:
    """A migrated store of one test's own (database)."""
    store = ClickHouseStore(f"chdb://{tmp_path_factory.getbasetemp() / 'forget'}",
                            database=f"f{uuid.uuid4().hex[:8]}")
    store.migrate()
    yield store
    store.close()


def store_events(store: ClickHouseStore, events: list[tuple[str, str, str]]) -> None:
    """(event_id, user_id, conversation_id) events, each with one feedback and one embedding."""
    now = datetime.now(UTC)
    ids = [e[0] for e in events]
    n = len(events)
    store.insert_columns(
        EVENTS, [ids, [now] * n, [now] * n, [e[1] for e in events], [e[2] for e in events],
                 [f"prompt of {e[1]}" for e in events]],
        ["event_id", "timestamp", "ingested_at", "user_id", "conversation_id", "prompt"])
    store.insert_columns(FEEDBACK, [ids, [now] * n, [now] * n, [1.0] * n, ["my comment"] * n],
                         ["event_id", "timestamp", "ingested_at", "value", "comment"])
    store.insert_columns(EMBEDDINGS, [ids, [now] * n, [now] * n, ["prompt"] * n, [[0.5]] * n],
                         ["event_id", "timestamp", "ingested_at", "field", "embedding"])


def rows_of(store: ClickHouseStore, event_ids: list[str]) -> dict[str, int]:
    return {table: store.query(f"SELECT count() FROM {table} FINAL WHERE event_id IN "
                               "{ids:Array(String)}", {"ids": event_ids})[1][0][0]
            for table in TABLES}


def test_forgetting_a_user_removes_their_rows_everywhere_and_no_one_elses(
    store: ClickHouseStore,
) -> None:
    redactor = Redactor("redact", salt="deployment-salt")
    # Two of jane's events stored under today's pseudonym, one raw (stored before pseudonyms).
    jane = [("e1", redactor.pseudonym("jane"), "c1"), ("e2", redactor.pseudonym("jane"), "c2"),
            ("e3", "jane", "c3")]
    others = [("e4", redactor.pseudonym("joe"), "c1"), ("e5", "", ""), ("e6", "janet", "c9")]
    store_events(store, jane + others)

    removed = forget(store, **stored_forms(redactor, ["jane"], []))

    assert removed == {FEEDBACK: 3, EMBEDDINGS: 3, EVENTS: 3}
    assert rows_of(store, [e[0] for e in jane]) == dict.fromkeys(TABLES, 0)
    assert rows_of(store, [e[0] for e in others]) == dict.fromkeys(TABLES, 3)


def test_forgetting_a_conversation_removes_that_conversation_only(store: ClickHouseStore) -> None:
    redactor = Redactor("hash", salt="deployment-salt")
    mail = "conv-of-jane@example.org"
    store_events(store, [("e1", "u1", redactor(mail)), ("e2", "u1", mail),
                         ("e3", "u1", redactor("conv-of-joe@example.org")), ("e4", "u2", "c4")])

    removed = forget(store, **stored_forms(redactor, [], [mail]))

    assert removed == {FEEDBACK: 2, EMBEDDINGS: 2, EVENTS: 2}
    assert rows_of(store, ["e3", "e4"]) == dict.fromkeys(TABLES, 2)


def test_a_redacted_id_shared_by_others_is_not_used_to_match() -> None:
    # Under redact an e-mail becomes <EMAIL>, which every conversation named by one shares:
    # matching it would erase strangers' conversations.
    redactor = Redactor("redact", salt="deployment-salt")
    forms = stored_forms(redactor, ["", "jane"], ["jane@example.org"])
    assert forms == {"user_ids": sorted(["jane", redactor.pseudonym("jane")]),
                     "conversation_ids": ["jane@example.org"]}


def test_an_empty_request_is_refused(store: ClickHouseStore) -> None:
    with pytest.raises(ValueError, match="at least one"):
        forget(store)
    with pytest.raises(ValueError, match="empty id"):
        forget(store, user_ids=[""])  # '' is what events without a user store


def test_every_table_holding_rows_of_an_event_is_covered(store: ClickHouseStore) -> None:
    _, rows = store.query(
        "SELECT c.table, c.name FROM system.columns AS c INNER JOIN system.tables AS t "
        "ON c.database = t.database AND c.table = t.name WHERE c.database = currentDatabase() "
        "AND t.engine NOT IN ('View', 'MaterializedView') "
        "AND c.name IN ('event_id', 'user_id', 'conversation_id')")
    holders = {table for table, _ in rows}
    assert holders == set(TABLES), "a table of per-event rows is missing from EVENT_DATA_TABLES"
    assert {table for table, column in rows if column != "event_id"} == {EVENTS}


def seismo_forget(dep: Deployment, user_id: str) -> tuple[str, dict[str, int]]:
    """Run `seismo forget --user-id` as a privacy officer would: who removed, rows per table."""
    done = subprocess.run([sys.executable, "-m", "streams", "forget", "--user-id", user_id],
                          capture_output=True, text=True, timeout=300, env=dep.env())
    assert done.returncode == 0, done.stdout + done.stderr
    by = re.search(r"deleted by (the running worker|the store)", done.stdout)
    assert by, done.stdout
    rows = re.findall(r"│\s*(\w+)\s*│\s*([\d,]+)\s*│", done.stdout)
    return by.group(1), {table: int(count.replace(",", "")) for table, count in rows}


def test_seismo_forget_erases_a_user_through_the_worker_and_without_one(
    deployment: Deployment,
) -> None:
    deployment.extra_env.update(WORKER_ENV)
    config = GeneratorConfig(seed=16, start=START, events_per_second=EVENTS_PER_SECOND,
                             apps=("support-bot",))
    events = list(TrafficGenerator(config).events(SECONDS * EVENTS_PER_SECOND))
    produce_raw(deployment.bootstrap, deployment.traces_topic,
                [to_json_line(e) for e in events], keys=[stream_key(e) for e in events])
    # Every event of the two busiest users is rated, and every third of the others.
    (jane, _), (joe, _) = Counter(e["user_id"] for e in events).most_common(2)
    rated = [e for i, e in enumerate(events) if e["user_id"] in (jane, joe) or i % 3 == 0]
    produce_raw(deployment.bootstrap, deployment.feedback_topic, [to_json_line(
        {"event_id": e["event_id"], "timestamp": e["timestamp"], "score": -0.5,
         "comment": f"answer to {e['user_id']} was wrong"}) for e in rated])
    ids = {u: [e["event_id"] for e in events if e["user_id"] == u] for u in (jane, joe)}
    others = [e["event_id"] for e in events if e["user_id"] not in (jane, joe)]

    deployment.start()
    # The admin token the worker generated (none is configured), as the CLI finds it too.
    token = client_token(load_settings(env=deployment.env()))

    def rows(event_ids: list[str]) -> dict[str, int]:
        return {table: query_worker(
            deployment.api, f"SELECT count() FROM {table} FINAL WHERE event_id IN "
            "{ids:Array(String)}", {"ids": event_ids}, token=token)[1][0][0] for table in TABLES}

    keys = {stream_key(e) for e in events}
    wait_for(lambda: rows(others + ids[jane] + ids[joe])[FEEDBACK] == len(rated), 120,
             "the feedback stored")
    windows = SECONDS // WINDOW * len(keys)
    wait_for(lambda: query_worker(deployment.api, "SELECT count() FROM window_metrics FINAL",
                                  token=token)[1][0][0] == windows, 240, "every window closed")
    before = {u: rows(ids[u]) for u in (jane, joe)}
    others_before = rows(others)
    assert before[jane][EMBEDDINGS] > 0, "no embedded sample of jane's events to forget"

    by, removed = seismo_forget(deployment, jane)
    assert by == "the running worker"
    assert removed == before[jane]
    assert rows(ids[jane]) == dict.fromkeys(TABLES, 0)
    assert rows(ids[joe]) == before[joe] and rows(others) == others_before

    deployment.stop()
    by, removed = seismo_forget(deployment, joe)
    assert by == "the store" and removed == before[joe]
    # Asked again, nothing of either is left to remove.
    assert seismo_forget(deployment, joe)[1] == dict.fromkeys(TABLES, 0)
    assert seismo_forget(deployment, jane)[1] == dict.fromkeys(TABLES, 0)


def test_seismo_forget_without_an_id_is_refused_before_touching_anything(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "streams", "forget", "--user-id", ""],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "SEISMO_CLICKHOUSE_URL": f"chdb://{tmp_path / 'c'}"})
    assert done.returncode == 2 and "at least one" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "c").exists()
