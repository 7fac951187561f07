"""What the worker hands the alerting when a window closes: one stream key's signals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from detectors.result import DetectorResult


@dataclass(frozen=True)
class WindowOutcome:
    """The closed window of one stream key (app, model, prompt_version).

    Attributes
    ----------
    app, model, prompt_version : str
        The stream key; ``prompt_version`` is ``""`` when the app sends none.
    window_start, window_end : datetime
        Event-time bounds of the window, timezone-aware (normalised to UTC here).
    metrics : Mapping[str, float]
        The ``window_metrics`` columns of the window, e.g. ``{"error_rate": 0.02}``.
    results : Sequence[tuple[str, DetectorResult]]
        ``(field, result)`` pairs, e.g. ``("prompt", <mmd result>)``.
    """

    app: str
    model: str
    prompt_version: str
    window_start: datetime
    window_end: datetime
    metrics: Mapping[str, float] = field(default_factory=dict)
    results: Sequence[tuple[str, DetectorResult]] = ()

    def __post_init__(self) -> None:
        for name in ("window_start", "window_end"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
            # Frozen: set through object.__setattr__ so every later hash sees one spelling.
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.window_end < self.window_start:
            raise ValueError("window_end must not be before window_start")
