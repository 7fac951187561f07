"""The demo's traffic: four stream keys, stable, then an incident on two of them, then recovery.

- ``support-bot`` (both of its models): 30 % of the prompts move to a topic the reference never
  saw during the incident — what ``PromptEmbeddingDrift`` is for.
- ``code-assistant/claude-3-5-sonnet``: every call four times slower during the incident —
  ``LatencyDistributionShift``.
- ``code-assistant/gpt-4o``: no incident, the control; nothing may page for it.

Each phase is its own generator run (a seed each), stamped back to back, so the incident has a
start and an end on a window boundary. Pure: same arguments, same events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from streams.testing.generator import GeneratorConfig, TrafficGenerator

# Short windows and small samples, so a story of 20 windows fits in two minutes on two cores
# (the demo, and the drift end-to-end test). The budget: a 10-second window gives 60,480
# windows a week, where a 1-a-week budget asks 70-event windows for p < 1e-8; 30 a week is
# the level the default budget has at 5-minute windows.
SHORT_WINDOWS_ENV = {
    "SEISMO_WINDOW_SECONDS": "10",
    "SEISMO_ALLOWED_LATENESS_SECONDS": "1",
    "SEISMO_IDLE_CLOSE_SECONDS": "3",
    "SEISMO_REFERENCE_EVENTS": "150",
    "SEISMO_DRIFT_FIELDS": "prompt",
    "SEISMO_EMBEDDING_SAMPLE": "60",
    "SEISMO_REFERENCE_SAMPLE": "150",
    "SEISMO_BATCH_SIZE": "500",
    "SEISMO_FALSE_PAGES_PER_WEEK": "30",
}
DRIFT_APP = "support-bot"
LATENCY_APP = "code-assistant"
SLOW_MODEL = "claude-3-5-sonnet"
CONTROL_MODEL = "gpt-4o"
# Events per second of event time per app; code-assistant's third model is left out, so
# each of the four keys gets 6-9 events a second, 60-90 a 10-second window.
SUPPORT_RATE = 15.0
CODE_RATE = 20.0


@dataclass(frozen=True)
class Story:
    """Seconds of event time of each phase, from ``start``."""

    start: datetime
    stable: float = 60.0
    incident: float = 60.0
    recovery: float = 80.0

    @property
    def seconds(self) -> float:
        return self.stable + self.incident + self.recovery

    @property
    def onset(self) -> datetime:
        return self.start + timedelta(seconds=self.stable)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    def expected(self) -> dict[tuple[str, str], str | None]:
        """The rule each stream key should page on (None: nothing should)."""
        return {
            (DRIFT_APP, "gpt-4o-mini"): "PromptEmbeddingDrift",
            (DRIFT_APP, "claude-3-5-haiku"): "PromptEmbeddingDrift",
            (LATENCY_APP, SLOW_MODEL): "LatencyDistributionShift",
            (LATENCY_APP, CONTROL_MODEL): None,
        }

    def events(self) -> list[dict[str, Any]]:
        phases = (
            (0.0, self.stable, {}, {}),
            (self.stable, self.incident, {"drift_at": 0.0},
             {SLOW_MODEL: {"latency_spike_at": 0.0, "latency_spike_factor": 4.0}}),
            (self.stable + self.incident, self.recovery, {}, {}),
        )
        events: list[dict[str, Any]] = []
        for phase, (offset, length, support, code) in enumerate(phases):
            begin = self.start + timedelta(seconds=offset)
            events += _run(phase, DRIFT_APP, begin, length, SUPPORT_RATE, support)
            for model in (SLOW_MODEL, CONTROL_MODEL):
                events += [e for e in _run(phase, LATENCY_APP, begin, length, CODE_RATE,
                                           code.get(model, {}), salt=model)
                           if e["model"] == model]
        events.sort(key=lambda e: e["timestamp"])
        return events


def _run(phase: int, app: str, begin: datetime, seconds: float, rate: float,
         incident: dict[str, Any], salt: str = "") -> list[dict[str, Any]]:
    seed = 100 * phase + sum(map(ord, app + salt)) % 97
    config = GeneratorConfig(seed=seed, start=begin, events_per_second=rate, apps=(app,),
                             **incident)
    return list(TrafficGenerator(config).events(int(seconds * rate)))
