"""Generic webhook: the transition record as the JSON body, signed with HMAC-SHA256.

The receiver recomputes ``sha256=<hex HMAC of the raw body>`` with the shared secret and
compares it (in constant time, e.g. :func:`verify_signature`) with the
``X-Seismo-Signature`` header. ``X-Seismo-Transition-Id`` lets it drop a transition it
has already seen (delivery is at least once).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from streams.alerting.notifiers.base import HttpRequest, Notifier, check_url
from streams.alerting.transitions import Transition

SIGNATURE_HEADER = "X-Seismo-Signature"
TRANSITION_HEADER = "X-Seismo-Transition-Id"


def sign(body: bytes, secret: str | bytes) -> str:
    """The ``X-Seismo-Signature`` value of ``body``: ``sha256=<hex digest>``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str | bytes) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret`` (constant time)."""
    return header is not None and hmac.compare_digest(sign(body, secret), header)


class WebhookNotifier(Notifier):
    """POSTs :meth:`Transition.to_json` to any HTTP endpoint, signed.

    Parameters
    ----------
    url : str
        The receiving endpoint.
    secret : str or bytes
        Shared HMAC key (a secret: never logged or shown).
    **options
        ``name``, ``states`` (any of pending, firing, resolved, cancelled), ``severities``,
        ``retry``: see :class:`Notifier`.
    """

    kind = "webhook"

    def __init__(self, url: str, secret: str | bytes, **options: Any) -> None:
        super().__init__(**options)
        if not secret:
            raise ValueError("secret must not be empty")
        self.url = check_url(url, "url")
        self._secret = secret

    def secrets(self) -> tuple[str, ...]:
        secret = self._secret
        return (secret.decode(errors="replace") if isinstance(secret, bytes) else secret,)

    def request(self, transition: Transition) -> HttpRequest:
        body = transition.to_json()
        headers = {
            SIGNATURE_HEADER: sign(body, self._secret),
            TRANSITION_HEADER: transition.transition_id,
        }
        return HttpRequest(self.url, body, headers)
