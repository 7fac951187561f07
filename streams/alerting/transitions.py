"""The alert transition record: what goes to ``seismo.alerts``, the ``alerts`` table and notifiers.

Every field is a function of the rule and the window that caused it (``transition_at`` is the
window's end, in event time), so replaying a window yields the byte-identical record with the
same ``transition_id``: ClickHouse keeps one row per id, receivers can drop repeats by id.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from streams.alerting._time import from_iso, to_iso

PENDING = "pending"  # condition true, fewer than for_windows windows so far
FIRING = "firing"  # condition true for for_windows windows in a row
RESOLVED = "resolved"  # a firing alert's condition false for resolve_after_windows windows
CANCELLED = "cancelled"  # a pending alert's condition went false before it fired
# Still firing, announced again with a later expiry (``ends_at``): the worker's own alerts and
# the Watchdog, which must expire at Alertmanager once the worker stops re-announcing them.
# Only Alertmanager is sent these by default (see streams.alerting.pipeline_watch).
REFRESHED = "refreshed"
STATES = (PENDING, FIRING, RESOLVED, CANCELLED, REFRESHED)

# Column order of schemas/clickhouse/006_alerts.sql (table schemas.tables.ALERTS);
# ``to_row`` follows it.
ALERT_COLUMNS: tuple[str, ...] = (
    "transition_id",
    "fingerprint",
    "rule",
    "state",
    "severity",
    "app",
    "model",
    "value",
    "window_start",
    "window_end",
    "starts_at",
    "ends_at",
    "transition_at",
    "labels",
    "annotations",
)
_TIMES = ("window_start", "window_end", "starts_at", "ends_at", "transition_at")
_SEPARATOR = "\x1f"  # cannot occur in app or model names people type, so parts never run together


def _digest(*parts: str, length: int) -> str:
    return hashlib.sha256(_SEPARATOR.join(parts).encode()).hexdigest()[:length]


def fingerprint(rule: str, app: str, model: str, prompt_version: str) -> str:
    """Stable identity of one alert: the same rule on the same stream key, across restarts."""
    return _digest(rule, app, model, prompt_version, length=16)


def transition_id(fingerprint: str, state: str, window_start: datetime) -> str:
    """Deterministic id of one transition, so a replayed window yields the same id."""
    return _digest(fingerprint, state, to_iso(window_start) or "", length=32)


@dataclass(frozen=True)
class Transition:
    """One change of an alert's state.

    Attributes
    ----------
    transition_id : str
        Hash of fingerprint, state and window_start.
    fingerprint : str
        Hash of rule, app, model and prompt_version; PagerDuty's ``dedup_key``.
    state : str
        One of :data:`STATES`.
    value : float
        The signal's value in the window that caused the transition (``nan`` if none).
    window_start, window_end : datetime
        The window that caused the transition.
    starts_at : datetime
        Start of the first window of this episode with the condition true.
    ends_at : datetime or None
        For resolved and cancelled: the end of the window that closed the episode. For a
        firing or refreshed alert that must expire unless announced again: when it expires.
    transition_at : datetime
        When the transition happened in event time: ``window_end``.
    labels, annotations : dict
        Alertmanager-style labels (alertname, severity, app, model, rule labels) and the
        rendered annotations (summary, runbook_url, dashboard_url ...).
    """

    transition_id: str
    fingerprint: str
    rule: str
    state: str
    severity: str
    app: str
    model: str
    prompt_version: str
    value: float
    window_start: datetime
    window_end: datetime
    starts_at: datetime
    ends_at: datetime | None
    transition_at: datetime
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, got {self.state!r}")

    @property
    def summary(self) -> str:
        return self.annotations.get("summary", f"{self.rule}: {self.app}/{self.model}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601 UTC strings, a non-finite value as null."""
        data = asdict(self)
        for name in _TIMES:
            data[name] = to_iso(data[name])
        data["labels"] = dict(self.labels)
        data["annotations"] = dict(self.annotations)
        data["value"] = self.value if math.isfinite(self.value) else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transition:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` naming a missing or bad field."""
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(f"transition record lacks {', '.join(missing)}")
        values = {n: data[n] for n in names}
        try:
            for name in _TIMES:
                values[name] = from_iso(values[name])
            values["value"] = math.nan if values["value"] is None else float(values["value"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"transition record has a bad field: {exc}") from None
        values["labels"] = dict(values["labels"])
        values["annotations"] = dict(values["annotations"])
        return cls(**values)

    def to_json(self) -> bytes:
        """Canonical JSON (sorted keys), so equal transitions are equal bytes."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Transition:
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"transition record is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError("transition record is not a JSON object")
        return cls.from_dict(data)

    def to_row(self) -> tuple[Any, ...]:
        """Values in :data:`ALERT_COLUMNS` order, typed for clickhouse-connect."""
        return tuple(
            dict(getattr(self, name)) if name in ("labels", "annotations") else getattr(self, name)
            for name in ALERT_COLUMNS
        )
