"""PagerDuty Events API v2: ``trigger`` on firing, ``resolve`` on resolved.

``dedup_key`` is the alert's fingerprint, so a re-sent trigger updates the open incident
instead of opening a second one, and the resolve closes exactly that incident.
"""

from __future__ import annotations

import json
from typing import Any

from streams.alerting._time import to_iso
from streams.alerting.notifiers.base import HttpRequest, Notifier, check_url
from streams.alerting.transitions import FIRING, RESOLVED, Transition

DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
MAX_SUMMARY = 1024  # PagerDuty truncates longer summaries; we cut them ourselves, visibly


class PagerDutyNotifier(Notifier):
    """Opens and resolves PagerDuty incidents through one service integration.

    Parameters
    ----------
    routing_key : str
        The integration key of the PagerDuty service (a secret: never logged or shown).
    url : str
        The Events API v2 enqueue endpoint (configurable so tests use a local receiver).
    **options
        ``name``, ``states``, ``severities``, ``retry``: see :class:`Notifier`.
    """

    kind = "pagerduty"
    allowed_states = (FIRING, RESOLVED)

    def __init__(self, routing_key: str, *, url: str = DEFAULT_URL, **options: Any) -> None:
        super().__init__(**options)
        if not routing_key:
            raise ValueError("routing_key must not be empty")
        self._routing_key = routing_key
        self.url = check_url(url, "url")

    def secrets(self) -> tuple[str, ...]:
        return (self._routing_key,)

    def payload(self, transition: Transition) -> dict[str, Any]:
        event: dict[str, Any] = {
            "routing_key": self._routing_key,
            "dedup_key": transition.fingerprint,
            "event_action": "trigger" if transition.state == FIRING else "resolve",
        }
        if transition.state != FIRING:
            return event
        summary = transition.summary
        if len(summary) > MAX_SUMMARY:
            summary = summary[: MAX_SUMMARY - 1] + "…"
        event["payload"] = {
            "summary": summary,
            "source": f"{transition.app}/{transition.model}",
            "severity": transition.severity,
            "timestamp": to_iso(transition.transition_at),
            "component": transition.model,
            "group": transition.app,
            "class": transition.rule,
            "custom_details": {
                "value": transition.to_dict()["value"],
                "prompt_version": transition.prompt_version,
                "window_start": to_iso(transition.window_start),
                "window_end": to_iso(transition.window_end),
                "starts_at": to_iso(transition.starts_at),
                "labels": dict(transition.labels),
                "transition_id": transition.transition_id,
            },
        }
        links = [
            {"href": transition.annotations[key], "text": text}
            for key, text in (("dashboard_url", "Dashboard"), ("runbook_url", "Runbook"))
            if transition.annotations.get(key)
        ]
        if links:
            event["links"] = links
        return event

    def request(self, transition: Transition) -> HttpRequest:
        return HttpRequest(self.url, json.dumps(self.payload(transition)).encode())
