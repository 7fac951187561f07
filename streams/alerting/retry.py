"""Capped exponential backoff, shared by the notifiers and the delivery loop."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one notifier call tries, and how long anything waits between tries.

    One :meth:`Notifier.notify` call makes at most ``max_attempts`` requests, each cut off
    after ``timeout`` seconds, and waits ``backoff(n)`` after the n-th failure (a receiver's
    ``Retry-After`` is honoured up to ``max_backoff``). So one call gives up after at most
    :meth:`worst_case_seconds`; the delivery loop then waits ``backoff(round)`` and calls
    again, forever, so a transition is never dropped because a receiver was down.

    Parameters
    ----------
    max_attempts : int
        Requests per notifier call, at least 1.
    initial_backoff : float
        Seconds to wait after the first failure.
    max_backoff : float
        Cap on any wait, at least ``initial_backoff``.
    multiplier : float
        Growth of the wait per failure, at least 1.
    timeout : float
        Seconds one request may take (connect, send, answer).
    """

    max_attempts: int = 4
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    multiplier: float = 2.0
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.initial_backoff <= 0:
            raise ValueError(f"initial_backoff must be positive, got {self.initial_backoff}")
        if self.max_backoff < self.initial_backoff:
            raise ValueError("max_backoff must be at least initial_backoff")
        if self.multiplier < 1:
            raise ValueError(f"multiplier must be at least 1, got {self.multiplier}")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")

    def backoff(self, failures: int, retry_after: float = 0.0) -> float:
        """Seconds to wait after ``failures`` consecutive failures (``failures >= 1``)."""
        # Cap the exponent so a long outage cannot overflow the float.
        exponential = self.initial_backoff * self.multiplier ** min(failures - 1, 32)
        return min(self.max_backoff, max(exponential, retry_after))

    def worst_case_seconds(self) -> float:
        """Upper bound on the duration of one notifier call that ends in failure."""
        waits = sum(self.backoff(n, self.max_backoff) for n in range(1, self.max_attempts))
        return self.max_attempts * self.timeout + waits
