"""``seismo demo``: the main job in two minutes — a topic shift and a latency spike caught, paged
through a real Alertmanager, resolved, then the status table and an HTML report.

Everything runs here: the local broker (left up), Debian's Alertmanager with a webhook to a
receiver in this process, and one worker on 10-second windows with its store in
``<data_dir>/demo`` (fresh each run). The traffic (:mod:`streams.testing.demo_story`) is
published at once with event times of the last few minutes, so the worker works through
three and a half minutes of event time as fast as it can, closing windows as it goes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from streams.cli.common import console, named_cluster, settings
from streams.cli.status import show_status
from streams.exceptions import SeismoError
from streams.settings import Settings, load_settings
from streams.testing.demo_story import SHORT_WINDOWS_ENV

# The demo's own settings, on top of the user's (streams.testing.demo_story.SHORT_WINDOWS_ENV).
WINDOW_SECONDS = int(SHORT_WINDOWS_ENV["SEISMO_WINDOW_SECONDS"])
DEMO_ENV = {**SHORT_WINDOWS_ENV,
            "SEISMO_WATCH_ENABLED": "false"}  # the pipeline's own rules need hours of history


def demo(
    stable: float = typer.Option(60.0, help="Seconds of event time before the incident."),
    incident: float = typer.Option(60.0, help="Seconds of event time the incident lasts."),
    recovery: float = typer.Option(80.0, help="Seconds of event time after it."),
    timeout: float = typer.Option(420.0, help="Give up after this many seconds."),
) -> None:
    """A topic shift and a latency spike, caught, paged through a real Alertmanager and
    resolved; then `seismo status`, an HTML report and what to run next."""
    ok = run_demo(settings(), stable, incident, recovery, timeout, console)
    if not ok:
        raise typer.Exit(1)


@dataclass
class Pages:
    """The notifications Alertmanager delivered, in order of arrival."""

    seen: int = 0
    firing: set[tuple[str, str, str]] = field(default_factory=set)
    resolved: set[tuple[str, str, str]] = field(default_factory=set)

    def take(self, receiver, console: Console) -> None:
        requests = receiver.received
        for request in requests[self.seen:]:
            for alert in request.json().get("alerts", []):
                labels = alert.get("labels", {})
                key = (labels.get("alertname", "?"), labels.get("app", "?"),
                       labels.get("model", "?"))
                summary = alert.get("annotations", {}).get("summary", "")
                if alert.get("status") == "firing":
                    self.firing.add(key)
                    console.print(f"[bold red]PAGE  firing[/]   {key[0]} — {summary}")
                else:
                    self.resolved.add(key)
                    console.print(f"[bold green]PAGE  resolved[/] {key[0]} — {key[1]}/{key[2]}")
        self.seen = len(requests)

    @property
    def settled(self) -> bool:
        return bool(self.firing) and self.firing <= self.resolved


def run_demo(user: Settings, stable: float, incident: float, recovery: float, timeout: float,
             console: Console) -> bool:
    """The whole demo; True when every expected page fired and resolved and no other did."""
    # Imported here, as in every command: `seismo --help` should not load Kafka clients.
    from streams.kafka.admin import ensure_topics
    from streams.kafka.local_broker import LocalKafka
    from streams.testing.alertmanager import Alertmanager, alertmanager_binary
    from streams.testing.demo_story import Story
    from streams.testing.publish import publish
    from streams.testing.receivers import HttpReceiver
    from streams.testing.waiting import terminate

    binary = alertmanager_binary()
    if binary is None:
        raise SeismoError("the demo pages through Prometheus Alertmanager: install Debian's "
                          "prometheus-alertmanager (`make install` does) or set "
                          "SEISMO_ALERTMANAGER_BIN")
    bootstrap = ",".join(user.bootstrap_servers())
    if named_cluster(user) is None:
        broker = LocalKafka(version=user.kafka_version, port=user.kafka_port)
        with console.status(f"starting Kafka {broker.version} from Maven jars …"):
            bootstrap = broker.up()
        console.print(f"Kafka {broker.version} up at {bootstrap} "
                      "(it stays up: `seismo kafka down`)")
    root = Path(user.data_dir, "demo").resolve()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    env = _worker_env(bootstrap, root)
    receiver = HttpReceiver().start()
    manager = Alertmanager(binary=binary, root=root / "alertmanager",
                           webhook_url=receiver.url).start()
    env["SEISMO_ALERTMANAGER_URLS"] = manager.url
    demo_settings = load_settings(env=env)
    # Event time ends a little before now: the whole story is in the past, published at once.
    now = time.time()
    story = Story(start=datetime.fromtimestamp(
        (now - stable - incident - recovery) // WINDOW_SECONDS * WINDOW_SECONDS - WINDOW_SECONDS,
        UTC), stable=stable, incident=incident, recovery=recovery)
    events = story.events()
    asyncio.run(ensure_topics(bootstrap, {demo_settings.traces_topic: 4,
                                          demo_settings.feedback_topic: 4}))
    log_path = root / "worker.log"
    with open(log_path, "ab") as log:
        worker = subprocess.Popen([sys.executable, "-m", "streams", "worker"], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{demo_settings.web_port}"
    try:
        with console.status("starting the worker (it loads the embedding model) …"):
            _wait_for_api(api, worker)
        console.print(f"worker up (log: {log_path}), paging through Alertmanager {manager.url}")
        console.print(f"live page while the demo runs: {_live_url(demo_settings)}")
        console.print(
            f"story: {len(events):,} events, {story.seconds:.0f} s of event time in "
            f"{WINDOW_SECONDS}-second windows — stable {stable:.0f} s, then {incident:.0f} s of "
            "[bold]a new topic in support-bot's prompts[/] and [bold]code-assistant/"
            f"claude-3-5-sonnet four times slower[/], then {recovery:.0f} s of recovery; "
            "code-assistant/gpt-4o has no incident")
        asyncio.run(publish(events, bootstrap, demo_settings.traces_topic))
        pages = _watch(demo_settings, story, receiver, worker, timeout, console)
    finally:
        terminate(worker, timeout=60)
        manager.stop()
        receiver.stop()
    return _conclude(demo_settings, story, pages, console)


def _worker_env(bootstrap: str, root: Path) -> dict[str, str]:
    """The worker's environment: the user's, the demo's settings, and names of this run's own
    (topics, consumer group, store), so a run never reads what an earlier one left."""
    from streams.testing.ports import free_port

    run = uuid.uuid4().hex[:6]
    env = {**os.environ, **DEMO_ENV,
           "SEISMO_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
           "SEISMO_TRACES_TOPIC": f"seismo-demo-{run}.traces",
           "SEISMO_FEEDBACK_TOPIC": f"seismo-demo-{run}.feedback",
           "SEISMO_DLQ_TOPIC": f"seismo-demo-{run}.dlq",
           "SEISMO_ALERTS_TOPIC": f"seismo-demo-{run}.alerts",
           "SEISMO_CONSUMER_GROUP": f"seismo-demo-{run}",
           "SEISMO_CLICKHOUSE_URL": f"chdb://{root / 'chdb'}",
           "SEISMO_DATA_DIR": str(root),
           "SEISMO_WEB_HOST": "127.0.0.1",
           "SEISMO_WEB_PORT": str(free_port())}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    return env


def _live_url(settings: Settings) -> str:
    """The worker's live page with the demo's generated token (a browser keeps it in a
    cookie after the first visit; the token is this throwaway store's own)."""
    from streams.api_tokens import client_token

    return f"http://{settings.web_host}:{settings.web_port}/?token={client_token(settings)}"


def _wait_for_api(url: str, worker: subprocess.Popen, timeout: float = 120) -> None:
    from streams.testing.waiting import wait_for

    def up() -> bool:
        if worker.poll() is not None:
            raise SeismoError(f"the worker exited with code {worker.returncode}")
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2):
                return True
        except OSError:  # refused, reset, timed out, or a 503 while it starts
            return False

    wait_for(up, timeout, f"the worker's API at {url}", every=0.5)


def _watch(settings: Settings, story, receiver, worker: subprocess.Popen, timeout: float,
           console: Console) -> Pages:
    """A live table per stream key until every window closed and every page resolved."""
    from streams.report.monitoring import key_views
    from streams.store.reader import StoreReader

    pages = Pages()
    expected_windows = int(story.seconds // WINDOW_SECONDS)
    keys = story.expected()
    reader = StoreReader(settings)
    deadline = time.monotonic() + timeout
    try:
        with Live(console=console, auto_refresh=False, transient=False) as live:
            while time.monotonic() < deadline:
                if worker.poll() is not None:
                    raise SeismoError(f"the worker exited with code {worker.returncode}")
                views = key_views(reader, minutes=60)
                pages.take(receiver, live.console)
                live.update(_live_table(views, keys, expected_windows), refresh=True)
                closed = all(views.get(k) and views[k].windows >= expected_windows
                             for k in keys)
                if closed and pages.settled:
                    break
                time.sleep(1.0)
            else:
                console.print(f"[yellow]stopped waiting after {timeout:.0f} s[/]")
    finally:
        reader.close()
    return pages


def _live_table(views, keys, expected_windows: int) -> Table:
    table = Table(title="Seismo demo — per stream key", title_justify="left")
    for name in ("stream key", "windows closed", "latest verdicts", "alerts firing"):
        table.add_column(name)
    for key, rule in keys.items():
        view = views.get(key)
        table.add_row(
            f"{key[0]}/{key[1]}" + ("" if rule else " (no incident)"),
            f"{view.windows if view else 0}/{expected_windows}",
            view.verdict_line() if view else "waiting for the first window",
            "[bold red]" + ", ".join(view.firing) + "[/]" if view and view.firing else "none",
        )
    return table


def _conclude(settings: Settings, story, pages: Pages, console: Console) -> bool:
    """Status, report, where to look next; and the verdict on the story."""
    from streams.report import build_report
    from streams.store.reader import StoreReader

    console.rule("after the demo")
    show_status(settings, minutes=60)
    reader = StoreReader(settings)
    report = Path(settings.data_dir, "report.html")
    try:
        with console.status("writing the HTML report of support-bot …"):
            html, _, _ = build_report(reader, "support-bot", story.start - timedelta(minutes=1),
                                      story.end + timedelta(minutes=1), settings=settings,
                                      use_umap=False)
    finally:
        reader.close()
    report.write_text(html, encoding="utf-8")
    wanted = {(rule, *key) for key, rule in story.expected().items() if rule}
    stray = {p for p in pages.firing if p not in wanted}
    missing = wanted - pages.firing
    unresolved = pages.firing - pages.resolved
    console.print(f"report: {report}")
    store = settings.clickhouse_url
    console.print(f"live page: {_live_url(settings)} — served by a worker on this store; "
                  f"again with: SEISMO_DATA_DIR={settings.data_dir} SEISMO_CLICKHOUSE_URL={store} "
                  f"SEISMO_WEB_PORT={settings.web_port} seismo worker")
    console.print(
        "next:\n"
        "  1. publish your own events: one JSON per LLM call to the traces topic "
        "(README: Publishing events from an app), then `seismo worker`\n"
        "  2. point Grafana at ClickHouse: `seismo grafana push --url <grafana> --token <token> "
        "--clickhouse-url <clickhouse>` (README: Grafana and alerting)\n"
        "  3. `make test`: the whole suite against a real broker, ClickHouse and Alertmanager")
    for what, found in (("expected pages that never fired", missing),
                        ("pages on a key without an incident", stray),
                        ("pages that never resolved", unresolved)):
        if found:
            console.print(f"[bold red]{what}:[/] " + ", ".join(sorted(map(str, found))))
    return not (missing or stray or unresolved)
