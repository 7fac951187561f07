"""The delivery loop: nothing lost while a receiver is down, nothing repeated once it is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from streams.alerting import AlertDelivery, RetryPolicy, Transition
from streams.alerting.delivery import NOTIFICATIONS, RECORDS
from streams.alerting.notifiers import AlertmanagerNotifier, WebhookNotifier
from streams.metrics import Metrics
from streams.testing.receivers import HttpReceiver
from tests.streams.alerting.factories import episode, pending_then_cancelled

FAST = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.05, timeout=5)
SECRET = "s3cret"


def webhook(receiver: HttpReceiver, name: str, **options: Any) -> WebhookNotifier:
    return WebhookNotifier(receiver.url, SECRET, name=name, retry=FAST, **options)


def test_a_failing_notifier_is_retried_alone_until_it_takes_the_transition(
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    healthy, flaky = receiver_factory(), receiver_factory()
    flaky.answer(*[503] * 5)  # three rounds of two attempts: fails, fails, then delivered
    metrics = Metrics()
    firing, _ = episode()

    async def deliver() -> bool:
        notifiers = [webhook(healthy, "healthy"), webhook(flaky, "flaky")]
        async with AlertDelivery(notifiers, retry=FAST, metrics=metrics) as delivery:
            return await delivery.deliver(firing.to_json())

    assert asyncio.run(deliver()) is True
    assert len(healthy.received) == 1  # not re-sent while the other one was retried
    assert len(flaky.received) == 6
    assert [Transition.from_json(r.body) for r in (healthy.received[0], flaky.received[-1])] == [
        firing,
        firing,
    ]
    assert metrics.value(NOTIFICATIONS, notifier="flaky", outcome="failed") == 2
    assert metrics.value(NOTIFICATIONS, notifier="flaky", outcome="delivered") == 1


def test_a_receiver_that_is_down_gets_the_transition_once_it_is_up(
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    down = receiver_factory(started=False)
    metrics = Metrics()
    firing, _ = episode()

    async def scenario() -> bool:
        async with AlertDelivery([webhook(down, "hook")], retry=FAST, metrics=metrics) as delivery:
            task = asyncio.create_task(delivery.deliver(firing))
            while metrics.value(NOTIFICATIONS, notifier="hook", outcome="failed") < 3:
                assert not task.done()
                await asyncio.sleep(0.01)
            down.start()
            return await asyncio.wait_for(task, 10)

    assert asyncio.run(scenario()) is True
    [request] = down.received
    assert Transition.from_json(request.body) == firing


def test_run_acknowledges_each_record_only_after_it_was_delivered(
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    receiver = receiver_factory()
    firing, resolved = episode()
    receiver.answer(503, 503, 503)  # the first record needs two rounds
    records = [(0, firing.to_json()), (1, b"{not a transition"), (2, resolved.to_json())]
    acked: list[tuple[int, int]] = []
    metrics = Metrics()

    async def source() -> AsyncIterator[tuple[int, bytes]]:
        for record in records:
            yield record

    async def ack(record: tuple[int, bytes]) -> None:
        acked.append((record[0], len(receiver.received)))

    async def consume() -> int:
        async with AlertDelivery([webhook(receiver, "hook")], retry=FAST, metrics=metrics) as d:
            return await d.run(source(), value=lambda record: record[1], ack=ack)

    assert asyncio.run(consume()) == 3
    # Record 0 was acked after its 4th request (the first that succeeded), the unreadable
    # record 1 was skipped, not retried, and record 2 went out before its ack.
    assert acked == [(0, 4), (1, 4), (2, 5)]
    assert metrics.value(RECORDS, outcome="unreadable") == 1
    assert metrics.value(RECORDS, outcome="delivered") == 2


def test_a_permanent_refusal_is_not_retried_and_does_not_block_others(
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    refusing, healthy = receiver_factory(), receiver_factory()
    refusing.answer(400)
    metrics = Metrics()
    firing, _ = episode()

    async def deliver() -> bool:
        notifiers = [webhook(refusing, "refusing"), webhook(healthy, "healthy")]
        async with AlertDelivery(notifiers, retry=FAST, metrics=metrics) as delivery:
            return await delivery.deliver(firing)

    assert asyncio.run(deliver()) is True
    assert (len(refusing.received), len(healthy.received)) == (1, 1)
    assert metrics.value(NOTIFICATIONS, notifier="refusing", outcome="rejected") == 1


def test_each_notifier_gets_only_the_states_it_is_configured_for(
    receiver_factory: Callable[..., HttpReceiver],
) -> None:
    alertmanager, audit = receiver_factory(), receiver_factory()
    every_state = ("pending", "firing", "resolved", "cancelled")
    notifiers = [
        AlertmanagerNotifier(alertmanager.url, retry=FAST),
        webhook(audit, "audit", states=every_state),
    ]
    firing, resolved = episode()
    transitions = [*pending_then_cancelled(), firing, resolved]

    async def deliver_all() -> None:
        async with AlertDelivery(notifiers, retry=FAST) as delivery:
            for transition in transitions:
                await delivery.deliver(transition)

    asyncio.run(deliver_all())
    assert len(alertmanager.received) == 2
    assert [Transition.from_json(r.body).state for r in audit.received] == [
        "pending",
        "cancelled",
        "firing",
        "resolved",
    ]
