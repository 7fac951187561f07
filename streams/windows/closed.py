"""What closing one window of one stream key produced, as the window job hands it on.

One type from the window job to the alerting: the job fills it, the alert engine reads its
key, bounds, metrics and results, and the job then stores its ``drift_rows``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from detectors.result import DetectorResult
from streams.windows.clock import StreamKey


@dataclass(frozen=True)
class ClosedWindow:
    """The closed window of one stream key.

    Attributes
    ----------
    key : StreamKey
        The stream key; its ``prompt_version`` is ``""`` when the app sends none.
    window_start, window_end : datetime
        Event-time bounds of the window, timezone-aware (normalised to UTC here).
    metrics : dict[str, Any]
        The ``window_metrics`` columns of the window, e.g. ``{"error_rate": 0.02}``.
    results : list[tuple[str, DetectorResult]]
        ``(field, result)`` pairs, e.g. ``("prompt", <mmd result>)``.
    drift_rows : list[list[Any]]
        The ``drift`` rows of those results, stored with the window.
    """

    key: StreamKey
    window_start: datetime
    window_end: datetime
    metrics: dict[str, Any] = field(default_factory=dict)
    results: list[tuple[str, DetectorResult]] = field(default_factory=list)
    drift_rows: list[list[Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("window_start", "window_end"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
            # Frozen: set through object.__setattr__ so every later hash sees one spelling.
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.window_end < self.window_start:
            raise ValueError("window_end must not be before window_start")
