"""What POST /api/query serves, checked on a real embedded store: ClickHouse parses each text,
the guard reads the tree, ClickHouse's limits stop what is too big."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.tables import BASELINES
from streams.cli.status import STATUS_SQL
from streams.store.client import ClickHouseStore
from streams.store.query_guard import ApiQueries, QueryLimits, QueryRefused, seismo_tables
from streams.windows.baselines import BASELINE_COLUMNS

LIMITS = QueryLimits(timeout_seconds=5, max_result_rows=1000, max_result_bytes=1 << 20,
                     max_rows_to_read=50_000_000, max_bytes_to_read=1 << 32,
                     max_memory_bytes=256 << 20)
ROWS = 3000  # baselines rows: their cross join is 9 million, their triple one 27 billion


@pytest.fixture(scope="module")
def queries(chdb_store: ClickHouseStore) -> ApiQueries:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [[f"app{i}", "m", "", start, start + timedelta(hours=1), start] for i in range(ROWS)]
    chdb_store.insert_columns(BASELINES, list(zip(*rows, strict=True)), BASELINE_COLUMNS)
    return ApiQueries(chdb_store, LIMITS)


SERVED = [
    "SELECT count() FROM events",
    "select app, count() from seismo.events group by app",
    "WITH recent AS (SELECT * FROM events WHERE latency_ms > 0) SELECT count() FROM recent",
    "SELECT 1 UNION ALL SELECT count() FROM feedback",
    "SELECT 1 INTERSECT SELECT 1",
    "SELECT e.app FROM events AS e JOIN feedback AS f ON e.event_id = f.event_id",
    "SELECT count() FROM events WHERE app IN (SELECT app FROM baselines)",
    "SELECT count() FROM drift FINAL",
    "SELECT 1;",
    "SELECT 1 -- a comment\n;",
    "SELECT quantile(0.95)(latency_ms), countIf(status = 'error') FROM events",
    "SELECT 'DROP TABLE events; INTO OUTFILE', `app` FROM events LIMIT 1",
]


@pytest.mark.parametrize("sql", SERVED)
def test_a_select_over_seismos_tables_is_served(queries: ApiQueries, sql: str) -> None:
    queries.run(sql)  # raises QueryRefused if not served


def test_the_cli_status_query_is_served(queries: ApiQueries) -> None:
    assert queries.run(STATUS_SQL, {"minutes": 60})[1] == []


REFUSED = [
    ("INSERT INTO events (event_id) VALUES ('x')", "only a SELECT is served, not INSERT"),
    ("INSERT INTO events (event_id) SELECT event_id FROM events", "not INSERT"),
    ("ALTER TABLE events DELETE WHERE 1", "not ALTER"),
    ("DROP TABLE events", "not DROP"),
    ("DELETE FROM events WHERE 1", "not DELETE"),
    ("TRUNCATE TABLE events", "only a SELECT is served"),
    ("CREATE TABLE x (a Int8) ENGINE = Memory", "not CREATE"),
    ("SET readonly = 0", "only a SELECT is served"),
    ("SYSTEM DROP DNS CACHE", "only a SELECT is served"),
    ("SHOW TABLES", "only a SELECT is served"),
    ("DESCRIBE TABLE events", "only a SELECT is served"),
    ("EXPLAIN SELECT 1", "only a SELECT is served"),
    ("SELECT * FROM (EXPLAIN SELECT 1)", "table function viewExplain() is not served"),
    ("SELECT 1 INTO OUTFILE '/tmp/seismo-outfile'", "INTO OUTFILE is not served"),
    ("SELECT * FROM events INTO OUTFILE 'x' FORMAT CSV", "INTO OUTFILE is not served"),
    ("SELECT 1 FORMAT CSV", "FORMAT is not served"),
    ("SELECT * FROM file('/etc/passwd')", "table function file() is not served"),
    ("SELECT * FROM url('http://127.0.0.1:1/', CSV)", "table function url()"),
    ("SELECT * FROM remote('127.0.0.1', system.one)", "table function remote()"),
    ("SELECT * FROM s3('http://127.0.0.1:1/b/k', CSV)", "table function s3()"),
    ("SELECT * FROM input('a Int8')", "table function input()"),
    ("SELECT count() FROM numbers(1000000000)", "table function numbers()"),
    ("SELECT * FROM events JOIN generateRandom('a Int8') AS g ON 1", "generateRandom()"),
    ("SELECT count() FROM events WHERE app IN (SELECT * FROM file('/etc/passwd'))", "file()"),
    ("SELECT file('/etc/hostname')", "function file() is not served"),
    ("SELECT dictGet('d', 'x', toUInt64(1))", "function dictGet() is not served"),
    ("SELECT joinGet('system.t', 'x', 1)", "function joinGet() is not served"),
    ("SELECT getSetting('readonly')", "function getSetting()"),
    ("SELECT sleepEachRow(1) FROM events", "function sleepEachRow()"),
    ("SELECT * FROM system.tables", "table system.tables is not served"),
    ("SELECT * FROM information_schema.tables", "only the seismo database"),
    ("SELECT * FROM INFORMATION_SCHEMA.TABLES", "only the seismo database"),
    ("SELECT * FROM other.events", "only the seismo database"),
    ("SELECT count() FROM events WHERE app IN system.tables", "system.tables is not served"),
    ("SELECT * FROM events WHERE app IN (SELECT name FROM system.users)", "system.users"),
    ("SELECT * FROM unknown_table", "table unknown_table is not served"),
    ("SELECT * FROM deployment_secrets", "table deployment_secrets is not served"),
    ("SELECT * FROM seismo.deployment_secrets", "is not served"),
    # A WITH clause leaves unknown names to ClickHouse; the salt's table is refused anyway.
    ("WITH x AS (SELECT 1) SELECT * FROM deployment_secrets", "is not served"),
    ("WITH x AS (SELECT * FROM deployment_secrets) SELECT * FROM x", "is not served"),
    ("SELECT 1 SETTINGS readonly = 0", "SETTINGS is not served"),
    ("SELECT * FROM events SETTINGS max_threads = 64", "SETTINGS is not served"),
    ("SELECT 1 UNION ALL SELECT 2 SETTINGS max_result_rows = 0", "SETTINGS is not served"),
    ("SELECT 1; DROP TABLE events", "Multi-statements are not allowed"),
    ("SELECT 1; SELECT 2", "Multi-statements are not allowed"),
    ("SELECT 1 /* an open comment", "Multiline comment is not closed"),
    ("", "Empty query"),
]


@pytest.mark.parametrize(("sql", "reason"), REFUSED)
def test_everything_else_is_refused_with_one_line(queries: ApiQueries, sql: str,
                                                  reason: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        queries.run(sql)
    message = str(refused.value)
    assert reason in message and "\n" not in message


def test_a_second_statement_never_runs(queries: ApiQueries, chdb_store: ClickHouseStore) -> None:
    chdb_store.command("CREATE TABLE IF NOT EXISTS victim (x Int8) ENGINE = MergeTree ORDER BY x")
    for sql in ("SELECT 1; DROP TABLE victim", "SELECT 1; DROP TABLE victim; SELECT 1"):
        with pytest.raises(QueryRefused):
            queries.run(sql)
    assert chdb_store.query("EXISTS TABLE victim")[1] == [[1]]


def test_the_tables_are_the_migrations_own() -> None:
    assert {"events", "feedback", "drift", "window_metrics", "embeddings", "alerts",
            "baselines", "feedback_by_trace"} <= seismo_tables()
    assert "deployment_secrets" not in seismo_tables()


@pytest.mark.parametrize(("sql", "limit"), [
    ("SELECT a.app, b.app FROM baselines AS a, baselines AS b", "Limit for result exceeded"),
    ("SELECT count() FROM baselines AS a, baselines AS b, baselines AS c", "Timeout exceeded"),
    ("SELECT groupArray(a.app || b.app) FROM baselines AS a, baselines AS b",
     "memory limit exceeded"),
    ("SELECT a.app FROM baselines AS a, baselines AS b LIMIT 5000", "Limit for result exceeded"),
])
def test_clickhouse_limits_refuse_a_huge_query(queries: ApiQueries, chdb_store: ClickHouseStore,
                                               sql: str, limit: str) -> None:
    with pytest.raises(QueryRefused, match=limit):
        queries.run(sql)
    # The store answers the next query whole (the refused one's partial blocks discarded).
    assert chdb_store.query("SELECT 42")[1] == [[42]]
    assert queries.run("SELECT count() FROM baselines")[1] == [[ROWS]]


def test_rows_to_read_are_bounded(chdb_store: ClickHouseStore) -> None:
    tight = ApiQueries(chdb_store, QueryLimits(5, 1000, 1 << 20, 100, 1 << 30, 256 << 20))
    with pytest.raises(QueryRefused, match="max_rows_to_read"):
        tight.run("SELECT sum(length(app)) FROM baselines")
