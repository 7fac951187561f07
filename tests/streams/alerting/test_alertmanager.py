"""Against a real Alertmanager: what our transitions become at the receiver, and outages.

Who gives "exactly once" at the receiver: our delivery loop gives Alertmanager each
transition at least once (it retries until Alertmanager accepts it); Alertmanager retries
its webhook until the receiver answers, and its notification log remembers what each
receiver was told, so a flush after a success, or a replayed post of the same alert, sends
nothing new. The tests count notifications after Alertmanager has flushed the group again
(its ``alertmanager_nflog_queries_total`` moved on), so a duplicate would have been seen;
the resolve is then the last word, as a resolved alert leaves its group once announced.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime

from streams.alerting import AlertDelivery, RetryPolicy, Transition
from streams.alerting.delivery import NOTIFICATIONS
from streams.alerting.notifiers import AlertmanagerNotifier
from streams.metrics import Metrics
from streams.testing.alertmanager import Alertmanager
from streams.testing.receivers import HttpReceiver
from tests.streams.alerting.factories import episode
from tests.support.workers import wait_for

# The acceptance number is 60 s; set it lower while iterating on this file.
OUTAGE_SECONDS = float(os.environ.get("SEISMO_ALERT_OUTAGE_SECONDS", "60"))
RETRY = RetryPolicy(max_attempts=2, initial_backoff=0.05, max_backoff=0.5, timeout=5)
FAILED_REQUESTS = "alertmanager_notification_requests_failed_total"  # one per HTTP attempt


def deliver(notifier: AlertmanagerNotifier, metrics: Metrics, *transitions: Transition) -> None:
    async def run() -> None:
        async with AlertDelivery([notifier], retry=RETRY, metrics=metrics) as delivery:
            for transition in transitions:
                assert await delivery.deliver(transition)

    asyncio.run(run())


def statuses(receiver: HttpReceiver) -> list[str]:
    return [request.json()["status"] for request in receiver.received]


def after_two_flushes(manager: Alertmanager) -> None:
    """Wait until Alertmanager has run its notification pipeline twice more."""
    start = manager.metric("alertmanager_nflog_queries_total")
    wait_for(
        lambda: manager.metric("alertmanager_nflog_queries_total") >= start + 2,
        30,
        "two more Alertmanager flushes",
    )


def resolve_and_check_once(
    manager: Alertmanager, receiver: HttpReceiver, metrics: Metrics, resolved: Transition
) -> None:
    """No repeat of the firing notification, then the resolve arrives: exactly once each."""
    after_two_flushes(manager)
    assert statuses(receiver) == ["firing"]
    deliver(AlertmanagerNotifier(manager.url, retry=RETRY), metrics, resolved)
    receiver.wait_for_requests(2)
    # Notifications of one group go out in order, and a resolved alert leaves its group once
    # announced, so nothing can follow the resolve.
    assert statuses(receiver) == ["firing", "resolved"]


def test_firing_and_resolved_transitions_reach_the_receiver(
    alertmanager_factory: Callable[..., Alertmanager],
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    receiver = receiver_factory()
    manager = alertmanager_factory(receiver.url + "/alertmanager")
    firing, resolved = episode()
    notifier = AlertmanagerNotifier(manager.url, retry=RETRY)
    metrics = Metrics()

    deliver(notifier, metrics, firing)
    [request] = receiver.wait_for_requests(1)
    notification = request.json()
    assert request.path == "/alertmanager"
    assert notification["status"] == "firing"
    [alert] = notification["alerts"]
    assert alert["labels"] == firing.labels
    assert alert["annotations"]["summary"] == "chat/gpt-4o: 30% errors"
    assert alert["generatorURL"] == firing.annotations["dashboard_url"]
    assert datetime.fromisoformat(alert["startsAt"]) == firing.starts_at

    deliver(notifier, metrics, resolved)
    ended = receiver.wait_for_requests(2)[1].json()
    assert ended["status"] == "resolved"
    assert datetime.fromisoformat(ended["alerts"][0]["endsAt"]) == resolved.ends_at


def test_a_replayed_firing_transition_is_announced_once(
    alertmanager_factory: Callable[..., Alertmanager],
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    """A worker crash replays a delivered transition; the receiver hears of it once."""
    receiver = receiver_factory()
    manager = alertmanager_factory(receiver.url + "/hook")
    firing, resolved = episode()
    metrics = Metrics()
    notifier = AlertmanagerNotifier(manager.url, retry=RETRY)
    deliver(notifier, metrics, firing)
    receiver.wait_for_requests(1)
    deliver(notifier, metrics, firing)  # the replay
    resolve_and_check_once(manager, receiver, metrics, resolved)


def test_receiver_down_for_a_minute_gets_the_firing_notification_once_back(
    alertmanager_factory: Callable[..., Alertmanager],
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    receiver = receiver_factory(started=False)
    down_since = time.monotonic()
    manager = alertmanager_factory(receiver.url + "/hook")
    firing, resolved = episode()
    metrics = Metrics()
    deliver(AlertmanagerNotifier(manager.url, retry=RETRY), metrics, firing)

    # Alertmanager took the alert at once; it is Alertmanager that retries the receiver.
    assert metrics.value(NOTIFICATIONS, notifier="alertmanager", outcome="failed") == 0
    failures = wait_for(
        lambda: manager.metric(FAILED_REQUESTS, integration="webhook"),
        30,
        "Alertmanager to fail to notify the receiver that is down",
    )
    wait_for(
        lambda: time.monotonic() - down_since >= OUTAGE_SECONDS,
        OUTAGE_SECONDS + 5,
        f"the end of the {OUTAGE_SECONDS:.0f}s receiver outage",
        every=1,
    )
    assert manager.metric(FAILED_REQUESTS, integration="webhook") > failures  # kept trying
    assert receiver.received == []

    receiver.start()
    [request] = receiver.wait_for_requests(1, timeout=60)
    assert request.json()["alerts"][0]["labels"] == firing.labels
    resolve_and_check_once(manager, receiver, metrics, resolved)
    assert (
        metrics.value(NOTIFICATIONS, notifier="alertmanager", outcome="delivered") == 2
    )  # we posted each once


def test_delivery_loop_outlives_alertmanager_being_down(
    alertmanager_factory: Callable[..., Alertmanager],
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    receiver = receiver_factory()
    manager = alertmanager_factory(receiver.url + "/hook")
    manager.stop()
    firing, resolved = episode()
    metrics = Metrics()
    worker = threading.Thread(
        target=deliver, args=(AlertmanagerNotifier(manager.url, retry=RETRY), metrics, firing)
    )
    worker.start()
    wait_for(
        lambda: metrics.value(NOTIFICATIONS, notifier="alertmanager", outcome="failed") >= 3,
        30,
        "the delivery loop to retry while Alertmanager is down",
    )
    assert worker.is_alive()  # still holding the transition, not dropping it

    manager.start()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert metrics.value(NOTIFICATIONS, notifier="alertmanager", outcome="delivered") == 1
    [request] = receiver.wait_for_requests(1)
    assert request.json()["alerts"][0]["labels"] == firing.labels
    resolve_and_check_once(manager, receiver, metrics, resolved)
