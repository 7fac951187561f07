"""Seismo watching itself: an alert transition when ingestion dead-letters poison records.

A poison record (one whose batch fails only while it is in it, :mod:`streams.ingest.pipeline`)
means a
bug or an input nobody planned for, and the record is in the DLQ rather than in storage: a
person should look. So it goes the way every alert goes, as a firing transition on the alerts
topic (the notifiers deliver it, the ``alerts`` table keeps it), rule ``ingest_poison_records``,
app ``seismo``, model the source topic. The window is the minute it happened in, so the poison
batches of one minute make one transition id (receivers and ClickHouse keep one).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from streams.alerting.transitions import FIRING, Transition, fingerprint, transition_id

RULE = "ingest_poison_records"
APP = "seismo"
SEVERITY = "warning"


def poison_transition(topic: str, records: int, detail: str,
                      now: datetime | None = None) -> Transition:
    start = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    key = fingerprint(RULE, APP, topic, "")
    return Transition(
        transition_id=transition_id(key, FIRING, start),
        fingerprint=key, rule=RULE, state=FIRING, severity=SEVERITY, app=APP, model=topic,
        prompt_version="", value=float(records) if records >= 0 else math.nan,
        window_start=start, window_end=start + timedelta(minutes=1), starts_at=start,
        ends_at=None, transition_at=start + timedelta(minutes=1),
        labels={"alertname": RULE, "severity": SEVERITY, "app": APP, "model": topic},
        annotations={"summary": f"{records} poison records of {topic} dead-lettered "
                                f"(reason poison): {detail}"[:500],
                     "description": "Records whose batch failed only while they were in it "
                                    "were sent to the DLQ with reason poison; the rest was "
                                    "stored. Read them from the DLQ and fix the cause."},
    )
