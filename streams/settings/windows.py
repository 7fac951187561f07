"""The ``windows`` section: event-time windows, their closing, and the reference they meet."""

from __future__ import annotations

from dataclasses import dataclass

from streams.settings.base import (
    Section,
    check,
    check_at_least,
    check_choice,
    check_positive,
    setting,
)

REFERENCE_POLICIES = ("first_k", "trailing", "pinned")


@dataclass(frozen=True, slots=True)
class WindowSettings(Section):
    window_seconds: float = setting(300.0, "length of an event-time window")
    allowed_lateness_seconds: float = setting(
        30.0, "how long after its end a window still takes late events")
    idle_close_seconds: float = setting(
        60.0, "a window closes this long after its stream went quiet, with no later event")
    close_check_seconds: float = setting(1.0, "how often the window timer looks for windows "
                                              "to close")
    split_by_prompt_version: bool = setting(
        False, "stream key `app/model` or `app/model@prompt_version`")
    reference_policy: str = setting(
        "first_k", "the drift reference: `first_k` events, the `trailing` windows, or a "
        "`pinned` baseline")
    reference_events: int = setting(1000, "events of a `first_k` reference")
    reference_windows: int = setting(1, "windows of a `trailing` reference")

    def __post_init__(self) -> None:
        check_positive(self, "window_seconds")
        check(self.allowed_lateness_seconds >= 0, "allowed_lateness_seconds", "must be >= 0")
        check_positive(self, "idle_close_seconds", "close_check_seconds")
        check_choice("reference_policy", self.reference_policy, REFERENCE_POLICIES)
        check_at_least(self, 2, "reference_events")
        check_at_least(self, 1, "reference_windows")
