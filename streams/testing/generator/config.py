"""Settings of the traffic generator, validated on construction."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from streams.testing.generator.catalog import APPS

# Rates that are shares of events, checked alike.
_RATE_FIELDS = ("drift_fraction", "toxic_rate", "error_rate", "pii_rate", "refusal_rate")


def _now_to_the_second() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class GeneratorConfig:
    """What traffic to simulate. Same config, same events.

    Parameters
    ----------
    seed : int
        Seed of the one random generator all draws come from.
    start : datetime
        Event time of the first event; timezone-aware, stored in UTC. Defaults to now,
        rounded down to the second.
    events_per_second : float
        Event-time rate: event ``i`` is stamped ``start + i / events_per_second``.
    drift_at : float or None
        Seconds of event time after ``start`` from which part of the prompts come from the
        drift topic; ``None`` for no drift.
    drift_fraction : float
        Share of prompts from the drift topic once ``drift_at`` is reached.
    toxic_rate : float
        Share of events with an abusive prompt or completion.
    latency_spike_at : float or None
        Seconds of event time after ``start`` from which latencies are multiplied by
        ``latency_spike_factor``; ``None`` for no spike.
    latency_spike_factor : float
        Multiplier of latency and time to first token during the spike.
    error_rate : float
        Share of failed calls (``status="error"``, empty completion).
    pii_rate : float
        Share of prompts that contain an e-mail address or phone number.
    refusal_rate : float
        Share of successful calls whose completion is a refusal.
    apps : tuple of str or None
        Restrict traffic to these apps; ``None`` for all of them.

    Raises
    ------
    ValueError
        Naming the field, when a value is out of range.
    """

    seed: int = 0
    start: datetime = field(default_factory=_now_to_the_second)
    events_per_second: float = 50.0
    drift_at: float | None = None
    drift_fraction: float = 0.3
    toxic_rate: float = 0.0
    latency_spike_at: float | None = None
    latency_spike_factor: float = 4.0
    error_rate: float = 0.01
    pii_rate: float = 0.0
    refusal_rate: float = 0.02
    apps: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.start, datetime) or self.start.utcoffset() is None:
            raise ValueError(f"start must be a timezone-aware datetime, got {self.start!r}")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        _check_positive("events_per_second", self.events_per_second)
        _check_positive("latency_spike_factor", self.latency_spike_factor)
        for name in ("drift_at", "latency_spike_at"):
            value = getattr(self, name)
            if value is not None and not (_is_number(value) and 0 <= value < math.inf):
                raise ValueError(f"{name} must be None or a finite number >= 0, got {value!r}")
        for name in _RATE_FIELDS:
            value = getattr(self, name)
            if not (_is_number(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
        if self.apps is not None:
            apps = (self.apps,) if isinstance(self.apps, str) else tuple(self.apps)
            unknown = [app for app in apps if app not in APPS]
            if not apps or unknown:
                raise ValueError(
                    f"apps must be a non-empty subset of {sorted(APPS)}, got {self.apps!r}"
                )
            object.__setattr__(self, "apps", apps)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def _check_positive(name: str, value: object) -> None:
    if not (_is_number(value) and 0 < value < math.inf):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
