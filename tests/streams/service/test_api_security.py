"""The worker's API under attack, on a real worker with traffic flowing: every request without
the right token, every forbidden SQL form, oversized and malformed bodies. Each gets a 4xx
with one line of reason, while ingestion carries on, no file on the host appears or changes,
and the worker's memory stays bounded."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from streams.settings import load_settings
from streams.testing.generator import GeneratorConfig, TrafficGenerator, to_json_line
from streams.testing.ports import free_port
from streams.testing.publish import stream_key
from streams.windows.baselines import pin
from tests.support.workers import Deployment, produce_raw, wait_for

READ = "read-token-" + "r" * 24
ADMIN = "admin-token-" + "a" * 24
MEMORY_LIMIT = 256 << 20  # query_max_memory_bytes for this worker
# The worker tree may grow by the query's allowance and the answers in flight, not by what an
# unbounded query would take (the probe's cross joins want hundreds of GiB).
RSS_HEADROOM = MEMORY_LIMIT + (512 << 20)


@pytest.fixture
def secured(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Deployment]:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"grafana read {READ}\nops admin {ADMIN}\n")
    dep = Deployment(bootstrap=kafka_bootstrap, root=tmp_path, web_port=free_port(), extra_env={
        "SEISMO_API_TOKENS_FILE": str(tokens),
        "SEISMO_QUERY_MAX_MEMORY_BYTES": str(MEMORY_LIMIT),
        "SEISMO_QUERY_TIMEOUT_SECONDS": "3",
        "SEISMO_EMBEDDING_ENABLED": "false",  # the probe is about the API, not drift
    })
    dep.create_topics()
    dep.start()
    yield dep
    if dep.process is not None and dep.process.poll() is None:
        dep.process.kill()
        dep.process.wait()


class Traffic:
    """Publishes valid events until stopped, as the apps of a live deployment would."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self.published = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        seed = 0
        while not self._stop.is_set():
            start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
            config = GeneratorConfig(seed=seed, start=start, events_per_second=50)
            events = list(TrafficGenerator(config).events(50))
            self.published += produce_raw(self.dep.bootstrap, self.dep.traces_topic,
                                          [to_json_line(e) for e in events],
                                          keys=[stream_key(e) for e in events])
            seed += 1
            self._stop.wait(0.5)


def call(dep: Deployment, method: str, path: str, body: Any = None, token: str | None = None,
         content_type: str = "application/json", raw: bytes | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", dep.web_port, timeout=60)
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    kind = response.getheader("Content-Type", "")
    return response.status, json.loads(payload) if "json" in kind else payload.decode()


def assert_refused(answer: tuple[int, Any], status: int, reason: str = "") -> str:
    code, body = answer
    assert code == status, answer
    assert isinstance(body, dict) and set(body) == {"error"}, answer
    assert "\n" not in body["error"] and reason in body["error"], answer
    return body["error"]


def written(dep: Deployment) -> float:
    return dep.health()[1]["counters"].get("seismo_events_written_total", 0)


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every process below it (the ingest processes)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    members = {pid}
    while grown := {p for p, parent in parents.items() if parent in members} - members:
        members |= grown
    total = 0
    for member in members:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class PeakRss:
    """Samples the worker tree's resident memory while a block runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(0.1)


def files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under the deployment's root (the tokens file, the data dir, the OUTFILE
    targets), with its size and modification time; not the store's own nor the worker's log,
    which change with ingestion."""
    found = {}
    for folder, subfolders, names in os.walk(root):
        if Path(folder) == root:
            # Not descended into at all: ingestion creates and removes parts there meanwhile.
            subfolders[:] = [d for d in subfolders if d != "chdb"]
        for name in names:
            if not name.endswith(".log"):
                info = (Path(folder) / name).stat()
                found[str((Path(folder) / name).relative_to(root))] = (info.st_size,
                                                                        info.st_mtime_ns)
    return found


def post_oversized(dep: Deployment, chunked: bool) -> tuple[int, Any]:
    """POST a 50 MB body: announced by Content-Length (only its first 64 KiB sent), or chunked
    (stopping a little past the limit). A 413 proves the worker did not wait for the rest."""
    with socket.create_connection(("127.0.0.1", dep.web_port), timeout=30) as sock:
        length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {50_000_000}"
        sock.sendall((f"POST /api/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {READ}\r\n"
                      f"Content-Type: application/json\r\n{length}\r\n\r\n").encode())
        piece = b"x" * 65536
        try:
            if chunked:
                for _ in range(20):  # 1.25 MiB, past the 1 MiB limit
                    sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
            else:
                sock.sendall(piece)
        except OSError:  # the worker answered and closed before taking it all: fine
            pass
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


FORBIDDEN_SQL = [
    ("INSERT INTO events (event_id) VALUES ('x')", "not INSERT"),
    ("INSERT INTO FUNCTION file('{outside}/insert.csv', CSV) SELECT 1", "not INSERT"),
    ("ALTER TABLE events DELETE WHERE 1", "not ALTER"),
    ("DROP TABLE events", "not DROP"),
    ("DELETE FROM events WHERE 1", "not DELETE"),
    ("TRUNCATE TABLE events", "only a SELECT"),
    ("SELECT * FROM events INTO OUTFILE '{outside}/events.csv'", "INTO OUTFILE"),
    ("SELECT 1 INTO OUTFILE '{data}/planted' FORMAT CSV", "INTO OUTFILE"),
    ("SELECT * FROM file('/etc/passwd')", "file()"),
    ("SELECT file('/etc/passwd')", "file()"),
    ("SELECT * FROM url('http://127.0.0.1:9/x', CSV)", "url()"),
    ("SELECT * FROM remote('127.0.0.1', system.one)", "remote()"),
    ("SELECT * FROM s3('http://127.0.0.1:9/b/k', CSV)", "s3()"),
    ("SELECT * FROM input('x Int8')", "input()"),
    ("SELECT count() FROM numbers(1000000000)", "numbers()"),
    ("SELECT name FROM system.tables", "system.tables"),
    ("SELECT * FROM information_schema.tables", "seismo database"),
    ("SELECT * FROM deployment_secrets", "deployment_secrets"),
    ("SELECT count() FROM events SETTINGS max_result_rows = 0", "SETTINGS"),
    ("SELECT 1; DROP TABLE events", "Multi-statements"),
    ("SELECT 1; SELECT 2", "Multi-statements"),
    ("SELECT 1 FORMAT CSV", "FORMAT"),
    # A billion rows and more, each answered by one of ClickHouse's limits.
    ("SELECT a.prompt, b.prompt, c.prompt FROM events a, events b, events c", "Limit for result"),
    ("SELECT count() FROM events a, events b, events c, events d", "Timeout exceeded"),
    ("SELECT groupArray(a.prompt || b.prompt || c.prompt) FROM events a, events b, events c",
     "memory limit exceeded"),
]


def test_the_api_refuses_every_door_while_ingest_carries_on(secured: Deployment,
                                                            tmp_path: Path) -> None:
    dep = secured
    outside = tmp_path / "outside"
    outside.mkdir()
    data = tmp_path / "data"
    with Traffic(dep) as traffic:
        wait_for(lambda: written(dep) >= 200, 180, "the first events to be written")
        before_files = files(tmp_path)
        assert "tokens" in before_files
        baseline_rss = tree_rss(dep.process.pid)
        start_written = written(dep)

        # -- who may call what -----------------------------------------------------------------
        guarded = [("POST", "/api/query", {"sql": "SELECT 1"}),
                   ("POST", "/api/baselines", {"app": "a", "model": "m", "from": "2025-01-01",
                                               "to": "2025-01-02"}),
                   ("POST", "/api/forget", {"user_ids": ["u1"]})]
        for method, path, body in guarded:
            assert_refused(call(dep, method, path, body), 401, "missing token")
            assert_refused(call(dep, method, path, body, token="not-a-token"), 401, "unknown")
            assert_refused(call(dep, method, path, body, token=READ[:-1]), 401, "unknown")
        for method, path, body in guarded[1:]:
            assert_refused(call(dep, method, path, body, token=READ), 403, "needs admin")
        assert_refused(call(dep, "GET", "/api/query", token=READ), 405)
        assert call(dep, "GET", "/api/health")[0] == 200
        assert call(dep, "GET", "/metrics")[0] == 200  # metrics_public

        # -- what a read token may ask ---------------------------------------------------------
        status, answer = call(dep, "POST", "/api/query", {"sql": "SELECT count() FROM events"},
                              token=READ)
        assert status == 200 and answer["rows"][0][0] >= 200

        with PeakRss(dep.process.pid) as rss:
            for template, reason in FORBIDDEN_SQL:
                sql = template.format(outside=outside, data=data)
                assert_refused(call(dep, "POST", "/api/query", {"sql": sql}, token=ADMIN), 400,
                               reason)

            # -- bodies ----------------------------------------------------------------------
            assert_refused(post_oversized(dep, chunked=False), 413, "api_max_body_bytes")
            assert_refused(post_oversized(dep, chunked=True), 413, "api_max_body_bytes")
            query = "/api/query"
            assert_refused(call(dep, "POST", query, raw=b'{"sql": "SELECT 1"', token=READ), 400,
                           "malformed JSON")
            assert_refused(call(dep, "POST", query, raw=b"\xff\xfe", token=READ), 400,
                           "malformed JSON")
            assert_refused(call(dep, "POST", query, {"sql": "SELECT 1"}, token=READ,
                                content_type="text/plain"), 415, "application/json")
            assert_refused(call(dep, "POST", query, raw=b"sql=SELECT+1", token=READ,
                                content_type="application/x-www-form-urlencoded"), 415)
            assert_refused(call(dep, "POST", query, ["SELECT 1"], token=READ), 400, "object")
            assert_refused(call(dep, "POST", query, {}, token=READ), 400, "'sql'")
            assert_refused(call(dep, "POST", query, {"sql": 1}, token=READ), 400, "a string")
            assert_refused(call(dep, "POST", query, {"sql": "SELECT 1", "parameters": [1]},
                                token=READ), 400, "an object")
            assert_refused(call(dep, "POST", "/api/baselines", {"app": "a"}, token=ADMIN), 400)

        # -- and meanwhile -----------------------------------------------------------------
        assert rss.peak - baseline_rss < RSS_HEADROOM, (rss.peak, baseline_rss)
        wait_for(lambda: written(dep) > start_written, 60, "ingestion to carry on")
        status, answer = call(dep, "POST", "/api/query", {"sql": "SELECT count() FROM events"},
                              token=READ)
        assert status == 200  # the store answers whole after every refusal
        # The CLI's pin goes through with the admin token its settings name.
        pinned = {"app": "a", "model": "m", "from": "2025-01-01T00:00:00Z",
                  "to": "2025-01-02T00:00:00Z"}
        assert pin(load_settings(env=dep.env()), pinned) == "the running worker"
    assert files(tmp_path) == before_files
    assert not list(outside.iterdir())
    wait_for(lambda: written(dep) >= traffic.published, 180, "every published event written")

    log = dep.log_path.read_text()
    assert READ not in log and ADMIN not in log
    queries = [json.loads(line) for line in log.splitlines()
               if line.startswith("{") and '"api query' in line]
    assert any(q.get("token") == "ops" and q.get("refused") for q in queries)
    assert any(q.get("token") == "grafana" and q.get("rows") == 1 for q in queries)
