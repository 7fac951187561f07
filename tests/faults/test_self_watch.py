"""Seismo watching itself, at a real Alertmanager: the Watchdog stops when the worker is killed,
and a ClickHouse outage (the injected sink fault) raises the write-failure alert and resolves it.

What is awaited is what Alertmanager's own API (``GET /api/v2/alerts``, expired alerts left
out) says is active, and what its webhook told the receiver.
"""

from __future__ import annotations

import json
import signal
import urllib.request
from collections.abc import Callable

from streams.testing.alertmanager import Alertmanager
from streams.testing.faults import SINK_OUTAGE_ENV
from streams.testing.receivers import HttpReceiver
from tests.support.faults import COUNT_FINAL, FAST_WINDOWS_ENV, assert_events_exactly_once, traffic
from tests.support.faults import publish as publish_events
from tests.support.workers import Deployment, wait_for

WRITES_FAILING = "SeismoClickHouseWritesFailing"
# Re-sent every second with endsAt 4 s ahead: a dead worker's Watchdog expires within 4 s.
FAST_WATCH_ENV = {
    "SEISMO_WATCHDOG_INTERVAL_SECONDS": "1",
    "SEISMO_WATCHDOG_TTL_SECONDS": "4",
    "SEISMO_WATCH_CHECK_SECONDS": "1",
}


def active_alerts(manager: Alertmanager) -> list[dict]:
    """The alerts Alertmanager holds as active now."""
    with urllib.request.urlopen(manager.url + "/api/v2/alerts?active=true", timeout=5) as r:
        return [a for a in json.loads(r.read()) if a["status"]["state"] == "active"]


def active(manager: Alertmanager) -> set[str]:
    return {alert["labels"]["alertname"] for alert in active_alerts(manager)}


def notified(receiver: HttpReceiver, alertname: str, path: str = "/alertmanager") -> list[str]:
    """The statuses Alertmanager's webhook at ``path`` announced ``alertname`` with, in order."""
    return [alert["status"] for request in receiver.received if request.path == path
            for alert in request.json()["alerts"] if alert["labels"]["alertname"] == alertname]


def watched(deployment: Deployment, manager: Alertmanager, **env: str) -> None:
    deployment.extra_env.update(FAST_WINDOWS_ENV, **FAST_WATCH_ENV,
                                SEISMO_ALERTMANAGER_URLS=manager.url, **env)


def test_a_killed_worker_s_watchdog_stops_being_active_at_alertmanager(
    deployment: Deployment, alertmanager_factory: Callable[..., Alertmanager],
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    receiver = receiver_factory()
    manager = alertmanager_factory(receiver.url + "/alertmanager",
                                   watchdog_url=receiver.url + "/deadmans-switch")
    watched(deployment, manager)
    deployment.start()
    wait_for(lambda: "Watchdog" in active(manager), 60, "the Watchdog active at Alertmanager")
    wait_for(lambda: "firing" in notified(receiver, "Watchdog", "/deadmans-switch"), 30,
             "the Watchdog routed to the dead man's switch")
    # Alive, the worker keeps moving its expiry ahead.
    ends: set[str] = set()

    def refreshed() -> bool:
        ends.update(a["endsAt"] for a in active_alerts(manager)
                    if a["labels"]["alertname"] == "Watchdog")
        return len(ends) >= 3

    wait_for(refreshed, 30, "the Watchdog re-sent with a later endsAt")

    assert deployment.stop(signal.SIGKILL) == -signal.SIGKILL
    wait_for(lambda: "Watchdog" not in active(manager), 30,
             "the Watchdog to expire at Alertmanager")


def test_a_clickhouse_outage_raises_the_write_failure_alert_and_resolves_it(
    deployment: Deployment, alertmanager_factory: Callable[..., Alertmanager],
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    receiver = receiver_factory()
    manager = alertmanager_factory(receiver.url + "/alertmanager")
    # The sink's retries back off up to 10 s apart: one failed insert in a span of 12 s keeps
    # the alert firing through the outage and resolves it 12 s after (the default, three in
    # 60 s, would hold it a minute longer).
    watched(deployment, manager, SEISMO_WATCH_WRITE_FAILURE_SECONDS="12",
            SEISMO_WATCH_WRITE_FAILURES="1", **{SINK_OUTAGE_ENV: "500:15"})
    events = traffic(3000, seed=31)
    publish_events(deployment.bootstrap, deployment.traces_topic, events)
    deployment.start()

    wait_for(lambda: WRITES_FAILING in active(manager), 90,
             "the write-failure alert active at Alertmanager")
    wait_for(lambda: WRITES_FAILING not in active(manager), 90,
             "the write-failure alert resolved after the outage")
    wait_for(lambda: notified(receiver, WRITES_FAILING)[-1:] == ["resolved"], 30,
             "the receiver told it resolved")
    assert notified(receiver, WRITES_FAILING)[0] == "firing"
    assert not notified(receiver, "Watchdog"), "the Watchdog reached the paging receiver"
    deployment.wait_rows(COUNT_FINAL, len(events))
    assert_events_exactly_once(deployment, events)
    # Stored as every alert is, once ClickHouse took writes again: its firing row may be lost
    # to the outage it reports, its resolve is not.
    assert deployment.scalar(
        "SELECT count() FROM alerts FINAL WHERE rule = {r:String} AND state = 'resolved'",
        {"r": WRITES_FAILING}) == 1
