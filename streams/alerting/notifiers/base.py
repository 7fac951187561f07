"""What every notifier shares: one JSON POST per transition, bounded retries, no leaked secrets.

A subclass only says what to send (:meth:`Notifier.request`); this class decides how hard to
try. Answers 2xx are success; 408, 425, 429 and 5xx are retried (honouring ``Retry-After``);
any other 4xx means the request itself is wrong and is raised as
:class:`NotificationRejected` at once. Messages and logs pass through :meth:`_scrub`, which
removes the notifier's secrets (routing keys, webhook URLs, HMAC secrets).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlparse

import aiohttp

from schemas.alert_rules import SEVERITIES
from streams.alerting.exceptions import NotificationFailed, NotificationRejected
from streams.alerting.retry import RetryPolicy
from streams.alerting.transitions import FIRING, RESOLVED, STATES, Transition

log = logging.getLogger(__name__)

DEFAULT_STATES = (FIRING, RESOLVED)  # pending and cancelled are recorded, not paged
RETRIED_STATUSES = frozenset({408, 425, 429})
_BODY_EXCERPT = 200  # characters of an error answer worth keeping in a log line


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One POST a notifier wants sent."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Notifier(ABC):
    """Base of the notifiers.

    Parameters
    ----------
    name : str, optional
        Name in logs and metrics; defaults to the notifier's kind.
    states : iterable of str
        Transition states this notifier is sent (default: firing and resolved).
    severities : iterable of str, optional
        Only transitions of these severities are sent; default: all.
    retry : RetryPolicy
        Bound on one :meth:`notify` call.
    """

    kind = "notifier"
    allowed_states: tuple[str, ...] = STATES

    def __init__(
        self,
        *,
        name: str | None = None,
        states: Iterable[str] = DEFAULT_STATES,
        severities: Iterable[str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.name = name or self.kind
        self.states = frozenset(states)
        unknown = self.states - set(self.allowed_states)
        if not self.states or unknown:
            raise ValueError(
                f"states must be a non-empty subset of {', '.join(self.allowed_states)}"
                + (f", got {', '.join(sorted(unknown))}" if unknown else "")
            )
        self.severities = frozenset(severities) if severities is not None else None
        if self.severities is not None and not self.severities <= set(SEVERITIES):
            raise ValueError(f"severities must be a subset of {', '.join(SEVERITIES)}")
        self.retry = retry or RetryPolicy()

    def __repr__(self) -> str:  # never the URL: for Slack the URL is the credential
        return f"{type(self).__name__}(name={self.name!r})"

    def accepts(self, transition: Transition) -> bool:
        """Whether this notifier is sent ``transition`` at all."""
        return transition.state in self.states and (
            self.severities is None or transition.severity in self.severities
        )

    @abstractmethod
    def request(self, transition: Transition) -> HttpRequest:
        """The POST that announces ``transition`` to this receiver."""

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in a message or a log line."""
        return ()

    async def notify(self, session: aiohttp.ClientSession, transition: Transition) -> None:
        """Send ``transition``, retrying within :attr:`retry`'s bound.

        Raises
        ------
        NotificationRejected
            The receiver refused the request (a 4xx that retrying cannot fix).
        NotificationFailed
            Still failing after ``retry.max_attempts`` attempts.
        """
        request = self.request(transition)
        timeout = aiohttp.ClientTimeout(total=self.retry.timeout)
        for attempt in range(1, self.retry.max_attempts + 1):
            retry_after = 0.0
            try:
                async with session.post(
                    request.url,
                    data=request.body,
                    headers={"Content-Type": "application/json", **request.headers},
                    timeout=timeout,
                ) as response:
                    if 200 <= response.status < 300:
                        return
                    excerpt = self._scrub((await response.text(errors="replace"))[:_BODY_EXCERPT])
                    error = f"HTTP {response.status} {excerpt!r}"
                    if response.status < 500 and response.status not in RETRIED_STATUSES:
                        raise NotificationRejected(self.name, error)
                    retry_after = _seconds(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = self._scrub(f"{type(exc).__name__}: {exc}".rstrip(": "))
            if attempt == self.retry.max_attempts:
                raise NotificationFailed(
                    self.name, f"{error} (gave up after {attempt} attempts)", retry_after
                )
            delay = self.retry.backoff(attempt, retry_after)
            log.warning(
                "%s: attempt %d/%d for transition %s failed (%s); retrying in %.2fs",
                self.name,
                attempt,
                self.retry.max_attempts,
                transition.transition_id,
                error,
                delay,
            )
            await asyncio.sleep(delay)

    def _scrub(self, text: str) -> str:
        for secret in self.secrets():
            if secret:
                text = text.replace(secret, "***")
        return text


def is_http_url(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)


def check_url(url: str, argument: str) -> str:
    """An http(s) URL with a host, or ``ValueError`` naming ``argument`` (never the URL)."""
    if not is_http_url(url):
        raise ValueError(f"{argument} must be an http:// or https:// URL with a host")
    return url


def _seconds(value: str | None) -> float:
    """``Retry-After`` in seconds (the delta form; an HTTP date counts as not given)."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0
