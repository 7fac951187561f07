"""The ``ingest`` section: batches, the ingest processes, what a record may be, redaction."""

from __future__ import annotations

from dataclasses import dataclass

from streams.settings.base import Section, check, check_at_least, check_choice, setting

REDACTION_POLICIES = ("raw", "redact", "hash")
OTLP_ENCODINGS = ("auto", "otlp_json", "otlp_proto")


@dataclass(frozen=True, slots=True)
class IngestSettings(Section):
    batch_size: int = setting(2000, "records a batch holds at most (written when full)")
    batch_seconds: float = setting(1.0, "seconds a batch waits at most (written when due)")
    # Tries of a batch that fails for some record's sake (not ClickHouse or the DLQ being away,
    # which are waited out) before it is split to dead-letter its poison records as "poison".
    batch_max_attempts: int = setting(
        3, "tries of a batch failing for some record's sake before it is split and its poison "
        "records dead-lettered")
    # Processes that decode and scan the trace and OTLP batches beside the worker's event loop
    # (0: all of it in the event loop); see streams/ingest/pool.py. Two use both cores of a
    # 2-core machine: the event loop's own share (inserts, commits) is small beside them.
    ingest_processes: int = setting(
        2, "processes that decode and scan trace and OTLP batches beside the event loop "
        "(`0`: all in the event loop)")
    max_event_bytes: int = setting(1_048_576, "larger records go to the DLQ")
    max_otlp_bytes: int = setting(
        16_777_216, "larger OTLP records go to the DLQ (a Collector batch is larger than one "
        "event)")
    otlp_encoding: str = setting("auto", "`otlp_json`, `otlp_proto` or `auto` (both OTLP topics)")
    otlp_log_wait_seconds: float = setting(
        60.0, "how long a GenAI log record waits for its span to be stored before it is "
        "dead-lettered as `otlp_log_orphan`")
    max_future_skew_seconds: float = setting(3600.0, "events stamped further ahead go to the DLQ")
    redaction_policy: str = setting("redact", "`raw`, `redact` or `hash`")
    # Keys hash tags and user_id pseudonyms; empty: one generated per deployment
    # (streams.store.salt).
    redaction_salt: str = setting(
        "", "keys `hash` tags and `user_id` pseudonyms (empty: one generated per deployment "
        "and kept in ClickHouse)", secret=True)

    def __post_init__(self) -> None:
        check_at_least(self, 1, "batch_size")
        check(self.batch_seconds > 0, "batch_seconds", "must be positive")
        check_at_least(self, 1, "batch_max_attempts")
        check(self.ingest_processes >= 0, "ingest_processes", "must be 0 or more")
        check(self.max_event_bytes >= 1024, "max_event_bytes", "must be at least 1024")
        check(self.otlp_log_wait_seconds > 0, "otlp_log_wait_seconds", "must be positive")
        check(self.max_future_skew_seconds >= 0, "max_future_skew_seconds", "must be >= 0")
        check_choice("redaction_policy", self.redaction_policy, REDACTION_POLICIES)
        check(
            self.otlp_encoding in OTLP_ENCODINGS,
            "otlp_encoding",
            f"must be auto, otlp_json or otlp_proto, got {self.otlp_encoding!r}",
        )
