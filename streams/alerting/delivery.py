"""Durable delivery: every transition on ``seismo.alerts`` reaches every notifier, eventually.

:meth:`AlertDelivery.deliver` returns only when each notifier that accepts the transition
has taken it (or refused it for good, see :class:`NotificationRejected`). A notifier that
is down is retried forever with capped backoff, and only that notifier: one that already
took the transition is not sent it again. The caller acknowledges the record after
``deliver`` returns, so the consumer offset moves past a transition only once it has been
delivered; a crash before that replays the record (at least once; Alertmanager and
PagerDuty drop the repeat by labels / ``dedup_key``, webhook receivers by transition id).

:meth:`AlertDelivery.run` takes any async iterator of records and an acknowledgement
callback, so the worker's delivery agent (:func:`streams.service.app.build_alerting`) is a
single call over the alerts topic and nothing here depends on the framework that reads it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import aiohttp

from streams.alerting.exceptions import NotificationFailed, NotificationRejected
from streams.alerting.notifiers.base import Notifier
from streams.alerting.retry import RetryPolicy
from streams.alerting.transitions import Transition
from streams.metrics import Metrics

log = logging.getLogger(__name__)

Record = TypeVar("Record")
NOTIFICATIONS = "seismo_alert_notifications_total"  # labels: notifier, outcome
RECORDS = "seismo_alert_records_total"  # labels: outcome


class AlertDelivery:
    """Sends transition records to notifiers until each has them.

    Parameters
    ----------
    notifiers : sequence of Notifier
        The configured receivers (see :func:`streams.alerting.notifiers.build_notifiers`).
    retry : RetryPolicy, optional
        Waits between rounds of calls to a notifier that is still failing:
        ``retry.backoff(round)``, so at most ``retry.max_backoff`` seconds.
    metrics : Metrics, optional
        Counts :data:`NOTIFICATIONS` (delivered, failed, rejected) and :data:`RECORDS`.
    session : aiohttp.ClientSession, optional
        Shared HTTP session; by default one is opened on first use and closed by
        :meth:`close` (or ``async with``).
    """

    def __init__(
        self,
        notifiers: Sequence[Notifier],
        *,
        retry: RetryPolicy | None = None,
        metrics: Metrics | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        names = [n.name for n in notifiers]
        if len(set(names)) != len(names):
            raise ValueError(f"notifiers must have distinct names, got {names}")
        self.notifiers = tuple(notifiers)
        self.retry = retry or RetryPolicy()
        self.metrics = metrics or Metrics()
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> AlertDelivery:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def run(
        self,
        records: AsyncIterable[Record],
        *,
        value: Callable[[Record], Any] = lambda record: record,
        ack: Callable[[Record], Awaitable[Any]] | None = None,
    ) -> int:
        """Deliver each record in order, then ``ack`` it; returns how many when input ends.

        ``value`` extracts the payload (bytes, str or :class:`Transition`) from a record,
        e.g. ``lambda event: event.value`` for the worker's stream events.
        """
        count = 0
        async for record in records:
            await self.deliver(value(record))
            if ack is not None:
                await ack(record)
            count += 1
        return count

    async def deliver(self, record: bytes | str | Transition) -> bool:
        """Deliver one record to every notifier that accepts it, retrying until done.

        Returns False for a record that is not a transition (logged and counted, and
        skipped: retrying cannot make it readable), True otherwise.
        """
        if isinstance(record, Transition):
            transition = record
        else:
            try:
                transition = Transition.from_json(record)
            except ValueError as exc:
                log.error("skipping an unreadable alert record: %s", exc)
                self.metrics.inc(RECORDS, outcome="unreadable")
                return False
        waiting = [n for n in self.notifiers if n.accepts(transition)]
        rounds = 0
        while waiting:
            waiting, retry_after = await self._round(waiting, transition)
            if waiting:
                rounds += 1
                delay = self.retry.backoff(rounds, retry_after)
                log.warning(
                    "transition %s still undelivered to %s (round %d); next round in %.2fs",
                    transition.transition_id,
                    ", ".join(n.name for n in waiting),
                    rounds,
                    delay,
                )
                await asyncio.sleep(delay)
        self.metrics.inc(RECORDS, outcome="delivered")
        return True

    async def _round(
        self, notifiers: list[Notifier], transition: Transition
    ) -> tuple[list[Notifier], float]:
        """Call the notifiers concurrently; return those still failing and their Retry-After."""
        session = self._http()
        results = await asyncio.gather(
            *(n.notify(session, transition) for n in notifiers), return_exceptions=True
        )
        failing: list[Notifier] = []
        retry_after = 0.0
        for notifier, result in zip(notifiers, results, strict=True):
            if result is None:
                self.metrics.inc(NOTIFICATIONS, notifier=notifier.name, outcome="delivered")
                log.info(
                    "delivered %s transition %s of %s to %s",
                    transition.state,
                    transition.transition_id,
                    transition.rule,
                    notifier.name,
                )
            elif isinstance(result, NotificationRejected):
                self.metrics.inc(NOTIFICATIONS, notifier=notifier.name, outcome="rejected")
                log.error(
                    "%s refused transition %s for good, not retrying: %s",
                    notifier.name,
                    transition.transition_id,
                    result,
                )
            elif isinstance(result, Exception):
                self.metrics.inc(NOTIFICATIONS, notifier=notifier.name, outcome="failed")
                if not isinstance(result, NotificationFailed):
                    # A bug, not an outage: say so loudly, but still lose nothing.
                    log.error(
                        "%s raised %s on transition %s",
                        notifier.name,
                        type(result).__name__,
                        transition.transition_id,
                        exc_info=result,
                    )
                else:
                    retry_after = max(retry_after, result.retry_after)
                failing.append(notifier)
            else:  # CancelledError and friends: the worker is stopping
                raise result
        return failing, retry_after
