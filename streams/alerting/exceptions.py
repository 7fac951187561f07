"""Errors of the alerting package, under the service's one root (:class:`SeismoError`)."""

from __future__ import annotations

from streams.exceptions import ConfigError, SeismoError


class AlertingError(SeismoError):
    """Root of the errors the alerting package raises on purpose."""


class RuleFileError(ConfigError):
    """The rule file is unusable; the message is one line naming the file, the rule and the key."""


class NotificationFailed(AlertingError):
    """A notifier could not deliver a transition after its bounded retries; try again later.

    Attributes
    ----------
    notifier : str
        Name of the notifier (never its URL or credentials).
    retry_after : float
        Seconds the receiver asked us to wait (``Retry-After``), or 0 when it did not say.
    """

    def __init__(self, notifier: str, message: str, retry_after: float = 0.0) -> None:
        self.notifier = notifier
        self.retry_after = retry_after
        super().__init__(f"{notifier}: {message}")


class NotificationRejected(NotificationFailed):
    """The receiver refused the transition for good (a 4xx other than 408/425/429).

    Retrying the same request cannot succeed, so the delivery loop logs it and moves on rather
    than holding every later transition behind it.
    """
