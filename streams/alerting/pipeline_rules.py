"""The rules on Seismo's own pipeline: each a function of the worker's recent counters.

The worker samples its counters every ``watch_check_seconds`` (:class:`PipelineSample`); a
rule reads the history of samples and says whether its condition holds now
(:class:`PipelineCheck`), or ``None`` when the history holds no evidence either way (the
state is then left as it is). Counters count from the worker's start, as the history does,
so a counter's value before the first sample is zero. Thresholds are settings
(:class:`~streams.settings.watch.WatchSettings`); why each default is what it is: README,
"Seismo watches itself".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scipy.stats import binom

from streams.settings.watch import WatchSettings

# The counters a sample keeps (names of PipelineSample.counters).
RECORDS = "records"
DEAD_LETTERS = "dead_letters"
WRITE_FAILURES = "write_failures"
NOTIFIER_FAILURES = "notifier_failures"


@dataclass(frozen=True)
class PipelineSample:
    """The worker's counters at one moment.

    Attributes
    ----------
    at : datetime
        When it was taken (UTC).
    counters : mapping
        Cumulative counts since the worker started, by the names above.
    lag : float or None
        Records on the event topics not yet committed, summed; None when unknown.
    due : frozenset
        The windows due to close and still open, as hashable ids.
    sampled : tuple of float
        The sampled fractions of the windows closed since the previous sample.
    """

    at: datetime
    counters: Mapping[str, float] = field(default_factory=dict)
    lag: float | None = None
    due: frozenset[Hashable] = frozenset()
    sampled: tuple[float, ...] = ()


@dataclass(frozen=True)
class PipelineCheck:
    """A rule's verdict now: its condition, the value behind it, and the sentence on-call reads."""

    condition: bool
    value: float
    summary: str


class PipelineHistory:
    """Samples of the last ``keep`` span, and since when each due window has waited."""

    def __init__(self, keep: timedelta) -> None:
        self.keep = keep
        self._samples: deque[PipelineSample] = deque()
        self._due_since: dict[Hashable, datetime] = {}

    def add(self, sample: PipelineSample) -> None:
        self._samples.append(sample)
        while self._samples and self._samples[0].at < sample.at - self.keep:
            self._samples.popleft()
        self._due_since = {w: self._due_since.get(w, sample.at) for w in sample.due}

    @property
    def latest(self) -> PipelineSample:
        return self._samples[-1]

    def back(self, seconds: float) -> PipelineSample | None:
        """The newest sample at least ``seconds`` older than the latest (None if none is)."""
        cutoff = self.latest.at - timedelta(seconds=seconds)
        older = [s for s in self._samples if s.at <= cutoff]
        return older[-1] if older else None

    def count(self, name: str, sample: PipelineSample | None) -> float:
        return 0.0 if sample is None else sample.counters.get(name, 0.0)

    def delta(self, name: str, seconds: float, until: float = 0.0) -> float:
        """How much counter ``name`` grew from ``seconds`` to ``until`` seconds ago."""
        end = self.latest if until == 0 else self.back(until)
        return self.count(name, end) - self.count(name, self.back(seconds))

    def sampled_within(self, seconds: float) -> list[float]:
        cutoff = self.latest.at - timedelta(seconds=seconds)
        return [f for s in self._samples if s.at > cutoff for f in s.sampled]

    def longest_due_wait(self) -> float:
        """Seconds the longest-waiting due window has been due (0 when none is)."""
        if not self._due_since:
            return 0.0
        return (self.latest.at - min(self._due_since.values())).total_seconds()


Evaluate = Callable[[PipelineHistory, WatchSettings], PipelineCheck | None]


@dataclass(frozen=True)
class PipelineRule:
    """One rule: fires after ``for_checks`` checks with its condition true in a row, resolves
    after ``resolve_checks`` with it false (counts of checks, ``watch_check_seconds`` apart)."""

    name: str
    severity: str
    description: str
    evaluate: Evaluate
    for_checks: Callable[[WatchSettings], int] = lambda s: 1
    resolve_checks: Callable[[WatchSettings], int] = lambda s: 1


def consumer_lag_growing(history: PipelineHistory, s: WatchSettings) -> PipelineCheck | None:
    lag = history.latest.lag
    past = history.back(s.watch_lag_growth_seconds)
    if lag is None or past is None or past.lag is None:
        return None  # the broker could not be asked, or the history is shorter than the span
    growth = lag - past.lag
    minutes = s.watch_lag_growth_seconds / 60
    return PipelineCheck(
        lag >= s.watch_lag_min_records and growth > 0, lag,
        f"consumer lag {lag:.0f} records, up {growth:.0f} over {minutes:g} minutes: the worker "
        "takes events slower than they arrive")


def dead_letters_above_usual(history: PipelineHistory, s: WatchSettings) -> PipelineCheck | None:
    span, base = s.watch_dlq_span_seconds, s.watch_dlq_baseline_seconds
    if history.back(2 * span) is None:
        return None  # no usual level yet: a baseline shorter than one span says nothing
    letters = history.delta(DEAD_LETTERS, span)
    records = max(history.delta(RECORDS, span), letters)
    base_letters = history.delta(DEAD_LETTERS, span + base, until=span)
    base_records = history.delta(RECORDS, span + base, until=span)
    usual = max(s.watch_dlq_floor_fraction,
                base_letters / base_records if base_records > 0 else 0.0)
    # One-sided binomial test of the span's dead letters against the usual fraction: a busier
    # span has more dead letters, not a larger share, and does not page.
    p_value = float(binom.sf(letters - 1, records, usual)) if records > 0 else 1.0
    share = letters / records if records else 0.0
    return PipelineCheck(
        letters >= s.watch_dlq_min_records and p_value < s.watch_alpha, share,
        f"{letters:.0f} of {records:.0f} records dead-lettered in {span / 60:g} minutes "
        f"({share:.2%}, usually {usual:.2%}; p = {p_value:.2g})")


def clickhouse_writes_failing(history: PipelineHistory, s: WatchSettings) -> PipelineCheck:
    failures = history.delta(WRITE_FAILURES, s.watch_write_failure_seconds)
    return PipelineCheck(
        failures >= s.watch_write_failures, failures,
        f"{failures:.0f} ClickHouse inserts failed in the last "
        f"{s.watch_write_failure_seconds:g} s: ingestion holds its batch and retries")


def window_closes_behind(history: PipelineHistory, s: WatchSettings) -> PipelineCheck:
    waited = history.longest_due_wait()
    due = len(history.latest.due)
    return PipelineCheck(
        waited >= s.watch_window_behind_seconds, waited,
        f"{due} windows due to close and still open, the oldest for {waited:.0f} s: drift "
        "and alerts on them are late")


def embedding_saturated(history: PipelineHistory, s: WatchSettings) -> PipelineCheck:
    fractions = history.sampled_within(s.watch_sampled_span_seconds)
    highest = max(fractions, default=1.0)
    return PipelineCheck(
        bool(fractions) and highest < s.watch_min_sampled_fraction, highest,
        f"windows closed in the last {s.watch_sampled_span_seconds / 60:g} minutes embedded "
        f"at most {highest:.1%} of their events: the drift tests see a thin sample "
        "(raise embedding_sample, or give the embedding stage a GPU)")


def notifier_failures(history: PipelineHistory, s: WatchSettings) -> PipelineCheck:
    failures = history.delta(NOTIFIER_FAILURES, s.watch_notifier_span_seconds)
    return PipelineCheck(
        failures >= s.watch_notifier_failures, failures,
        f"{failures:.0f} notifier calls failed in {s.watch_notifier_span_seconds / 60:g} "
        "minutes: later alerts wait until the receiver takes them")


def _checks(seconds: Callable[[WatchSettings], float]) -> Callable[[WatchSettings], int]:
    return lambda s: max(1, round(seconds(s) / s.watch_check_seconds))


PIPELINE_RULES: tuple[PipelineRule, ...] = (
    PipelineRule(
        "SeismoConsumerLagGrowing", "warning",
        "The consumer group's lag on the event topics grew over watch_lag_growth_seconds and "
        "stayed so for another minute.",
        consumer_lag_growing, for_checks=_checks(lambda s: 60.0)),
    PipelineRule(
        "SeismoDeadLettersAboveUsual", "warning",
        "The share of records sent to the DLQ is above its usual level (the worker's own "
        "trailing baseline); read the DLQ's seismo.reason headers.",
        dead_letters_above_usual),
    PipelineRule(
        "SeismoClickHouseWritesFailing", "critical",
        "ClickHouse refuses inserts; nothing is stored or committed until it takes them.",
        clickhouse_writes_failing),
    PipelineRule(
        "SeismoWindowClosesBehind", "warning",
        "Windows stay open past their close: window closes take longer than the traffic "
        "allows, or fail (seismo_window_failures_total).",
        window_closes_behind),
    PipelineRule(
        "SeismoEmbeddingSaturated", "info",
        "The embedding stage embeds a small share of each window's events.",
        embedding_saturated),
    PipelineRule(
        "SeismoNotifierFailures", "warning",
        "A receiver keeps failing; the delivery agent retries it and holds later alerts.",
        notifier_failures),
)
