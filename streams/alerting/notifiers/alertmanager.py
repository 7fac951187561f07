"""Prometheus Alertmanager, API v2: ``POST /api/v2/alerts``.

Alertmanager owns grouping, silences, inhibition, routing and its own retried delivery to
receivers; Seismo posts each alert when it fires and again, with ``endsAt``, when it resolves.
An alert posted without ``endsAt`` would resolve itself after Alertmanager's
``resolve_timeout`` (5 minutes by default) unless re-posted, as Prometheus does on every
evaluation. Seismo posts once per transition instead and sets ``endsAt`` to now +
``firing_ttl`` on firing, so the alert stays up until the resolve arrives, or until the TTL
passes if the worker that owns it is gone for good. A firing or refreshed transition that
carries its own expiry (``ends_at``: the worker's own alerts and the Watchdog, re-announced
while they hold) is posted with that ``endsAt``, so it expires once the worker stops.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.alerting._time import to_iso
from streams.alerting.notifiers.base import HttpRequest, Notifier, check_url
from streams.alerting.transitions import FIRING, REFRESHED, RESOLVED, Transition
from streams.settings.alerting import AlertingSettings

# The setting's default, so a notifier built without settings (a test, a library user) agrees.
DEFAULT_FIRING_TTL = timedelta(seconds=AlertingSettings().alertmanager_firing_ttl_seconds)


class AlertmanagerNotifier(Notifier):
    """Posts firing and resolved alerts to one Alertmanager (one notifier per HA replica).

    Parameters
    ----------
    url : str
        Base URL of the Alertmanager, e.g. ``http://alertmanager:9093``.
    firing_ttl : timedelta
        How long a firing alert stays up without its resolve (see the module docstring).
    clock : callable, optional
        Returns the current UTC time; for tests.
    **options
        ``name``, ``states``, ``severities``, ``retry``: see :class:`Notifier`.
    """

    kind = "alertmanager"
    allowed_states = (FIRING, RESOLVED, REFRESHED)

    def __init__(
        self,
        url: str,
        *,
        firing_ttl: timedelta = DEFAULT_FIRING_TTL,
        clock: Callable[[], datetime] | None = None,
        **options: Any,
    ) -> None:
        options.setdefault("states", self.allowed_states)
        super().__init__(**options)
        self.endpoint = check_url(url, "url").rstrip("/") + "/api/v2/alerts"
        if firing_ttl <= timedelta(0):
            raise ValueError("firing_ttl must be positive")
        self.firing_ttl = firing_ttl
        self._clock = clock or (lambda: datetime.now(UTC))

    def payload(self, transition: Transition) -> list[dict[str, Any]]:
        """The postable alerts (a list of one) announcing ``transition``."""
        now = self._clock()
        if transition.state in (FIRING, REFRESHED):
            # Its own expiry, set when it was made: one delivered late must not outlive it.
            ends_at = transition.ends_at or now + self.firing_ttl
        else:
            # Never in the future: Alertmanager would keep the alert firing until then.
            ends_at = min(transition.ends_at or now, now)
        alert: dict[str, Any] = {
            "labels": dict(transition.labels),
            "annotations": dict(transition.annotations),
            "startsAt": to_iso(transition.starts_at),
            "endsAt": to_iso(ends_at),
        }
        link = transition.annotations.get("dashboard_url")
        if link:
            alert["generatorURL"] = link
        return [alert]

    def request(self, transition: Transition) -> HttpRequest:
        return HttpRequest(self.endpoint, json.dumps(self.payload(transition)).encode())
