"""Slack incoming webhook: a ``text`` fallback plus Block Kit ``blocks``.

The webhook URL is the credential (anyone holding it can post), so it is treated as a
secret: never logged, never in ``repr``. Slack cannot drop a repeated message, so a
transition replayed after a crash is posted twice; the message carries its transition id.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from streams.alerting.notifiers.base import HttpRequest, Notifier, check_url
from streams.alerting.transitions import CANCELLED, FIRING, PENDING, RESOLVED, Transition

HEADLINE = {
    FIRING: ":rotating_light: FIRING",
    RESOLVED: ":white_check_mark: RESOLVED",
    PENDING: ":hourglass_flowing_sand: PENDING",
    CANCELLED: ":heavy_minus_sign: CANCELLED",
}
MAX_HEADER = 150  # Slack's limit on a header block's text


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: only ``&``, ``<`` and ``>`` are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackNotifier(Notifier):
    """Posts one message per transition to a Slack channel's incoming webhook.

    Parameters
    ----------
    webhook_url : str
        ``https://hooks.slack.com/services/…`` (a secret).
    **options
        ``name``, ``states``, ``severities``, ``retry``: see :class:`Notifier`.
    """

    kind = "slack"

    def __init__(self, webhook_url: str, **options: Any) -> None:
        super().__init__(**options)
        self._url = check_url(webhook_url, "webhook_url")

    def secrets(self) -> tuple[str, ...]:
        path = urlparse(self._url).path
        return (self._url, path) if path.strip("/") else (self._url,)

    def payload(self, transition: Transition) -> dict[str, Any]:
        headline = f"{HEADLINE[transition.state]} [{transition.severity}] {transition.rule}"
        where = f"{transition.app}/{transition.model}"
        if transition.prompt_version:
            where += f" ({transition.prompt_version})"
        value = transition.to_dict()["value"]
        fields = [
            ("App / model", where),
            ("Severity", transition.severity),
            ("Value", "n/a" if value is None else f"{value:.4g}"),
            ("Since", transition.starts_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
            (
                "Window",
                f"{transition.window_start:%H:%M:%S} – {transition.window_end:%H:%M:%S} UTC",
            ),
        ]
        blocks: list[dict[str, Any]] = [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": headline[:MAX_HEADER], "emoji": True},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": escape(transition.summary)}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{name}*\n{escape(text)}"} for name, text in fields
                ],
            },
        ]
        links = [
            f"<{transition.annotations[key]}|{text}>"
            for key, text in (("runbook_url", "Runbook"), ("dashboard_url", "Dashboard"))
            if transition.annotations.get(key)
        ]
        context = [*links, f"transition `{transition.transition_id}`"]
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]}
        )
        return {"text": f"{headline}: {where}: {transition.summary}", "blocks": blocks}

    def request(self, transition: Transition) -> HttpRequest:
        return HttpRequest(self._url, json.dumps(self.payload(transition)).encode())
