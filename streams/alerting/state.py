"""Per-alert state machine, and the serialisable state of one stream key's alerts.

::

    inactive ──true──▶ pending ──true × for_windows──▶ firing ──false × resolve_after──▶ inactive
                          │                               ▲   │                   (emits resolved)
                          └──false──▶ inactive            └───┘ true resets the false count
                                      (emits cancelled)

With ``for_windows == 1`` the first true window fires directly (no pending transition).
A window without evidence for the rule leaves the state as it is. ``AlertStates`` is what the
worker keeps per stream key, as a row of the ClickHouse table ``alert_states`` (see
:class:`streams.alerting.router.AlertRouter`): plain JSON-able dicts, so it survives restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streams.alerting._time import from_iso, to_iso
from streams.alerting.transitions import CANCELLED, FIRING, PENDING, RESOLVED

INACTIVE = "inactive"
_PHASES = (INACTIVE, PENDING, FIRING)
_FORMAT = 1  # version of the dict layout, bumped if it ever changes incompatibly


@dataclass(slots=True)
class AlertState:
    """Where one alert (one fingerprint) stands.

    Attributes
    ----------
    phase : str
        ``"inactive"``, ``"pending"`` or ``"firing"``.
    true_windows : int
        Consecutive windows with the condition true in this episode.
    false_windows : int
        Consecutive windows with the condition false while firing.
    starts_at : datetime or None
        Start of the episode's first true window.
    evidence : float
        A sequential rule's e-detector value (1 is none; see :mod:`detectors.change.sequential`),
        kept while the alert is inactive too: evidence builds up before the condition holds.
    """

    phase: str = INACTIVE
    true_windows: int = 0
    false_windows: int = 0
    starts_at: datetime | None = None
    evidence: float = 1.0

    def advance(
        self, condition: bool, window_start: datetime, for_windows: int, resolve_after: int
    ) -> str | None:
        """Take one window's condition; return the transition it causes, if any."""
        if self.phase == FIRING:
            if condition:
                self.false_windows = 0
                return None
            self.false_windows += 1
            if self.false_windows >= resolve_after:
                self._reset()
                self.evidence = 1.0  # a new episode starts from no evidence
                return RESOLVED
            return None
        if not condition:
            was_pending = self.phase == PENDING
            self._reset()
            return CANCELLED if was_pending else None
        if self.phase == INACTIVE:
            self.starts_at = window_start
        self.true_windows += 1
        if self.true_windows >= for_windows:
            self.phase = FIRING
            return FIRING
        if self.phase == INACTIVE:
            self.phase = PENDING
            return PENDING
        return None

    def _reset(self) -> None:
        self.phase = INACTIVE
        self.true_windows = 0
        self.false_windows = 0
        self.starts_at = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "true_windows": self.true_windows,
            "false_windows": self.false_windows,
            "starts_at": to_iso(self.starts_at),
            "evidence": self.evidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertState:
        phase = data["phase"]
        if phase not in _PHASES:
            raise ValueError(f"alert state phase must be one of {', '.join(_PHASES)}: {phase!r}")
        return cls(
            phase=phase,
            true_windows=int(data["true_windows"]),
            false_windows=int(data["false_windows"]),
            starts_at=from_iso(data.get("starts_at")),
            evidence=float(data.get("evidence", 1.0)),  # absent in states stored before it
        )


@dataclass(slots=True)
class AlertStates:
    """The alerts of one stream key (app, model, prompt_version), keyed by fingerprint.

    Only alerts that are pending or firing, or hold sequential evidence, are kept;
    ``last_window_start`` makes evaluation idempotent: a window that does not start after it
    has been seen and is skipped.
    """

    last_window_start: datetime | None = None
    alerts: dict[str, AlertState] = field(default_factory=dict)

    def has_seen(self, window_start: datetime) -> bool:
        return self.last_window_start is not None and window_start <= self.last_window_start

    def get(self, fingerprint: str) -> AlertState:
        return self.alerts.get(fingerprint) or AlertState()

    def put(self, fingerprint: str, state: AlertState) -> None:
        if state.phase == INACTIVE and state.evidence <= 1.0:
            self.alerts.pop(fingerprint, None)
        else:
            self.alerts[fingerprint] = state

    def active(self) -> dict[str, str]:
        """Fingerprint → phase of every pending or firing alert."""
        return {fp: s.phase for fp, s in self.alerts.items() if s.phase != INACTIVE}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only, for the ``alert_states`` table or any other store."""
        return {
            "format": _FORMAT,
            "last_window_start": to_iso(self.last_window_start),
            "alerts": {fp: state.to_dict() for fp, state in sorted(self.alerts.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> AlertStates:
        """Inverse of :meth:`to_dict`; ``None`` or ``{}`` is a fresh stream key."""
        if not data:
            return cls()
        if data.get("format") != _FORMAT:
            raise ValueError(f"alert states have format {data.get('format')!r}, not {_FORMAT}")
        return cls(
            last_window_start=from_iso(data.get("last_window_start")),
            alerts={fp: AlertState.from_dict(s) for fp, s in data.get("alerts", {}).items()},
        )
