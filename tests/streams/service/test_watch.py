"""What the pipeline rules are fed from the worker's metrics."""

from __future__ import annotations

from streams.alerting.pipeline_rules import DEAD_LETTERS, NOTIFIER_FAILURES, RECORDS
from streams.metrics import Metrics
from streams.service.watch import consumer_lag, pipeline_counters


def test_lag_is_summed_over_partitions_and_unknown_until_measured_or_when_unmeasurable() -> None:
    metrics = Metrics()
    assert consumer_lag(metrics) is None
    metrics.set("seismo_consumer_lag", 5, topic="t", partition="0")
    metrics.set("seismo_consumer_lag", 7, topic="t", partition="1")
    assert consumer_lag(metrics) == 12
    metrics.set("seismo_consumer_lag", -1, topic="t", partition="all")
    assert consumer_lag(metrics) is None


def test_counters_sum_their_labels_and_only_failed_notifications_count() -> None:
    metrics = Metrics()
    metrics.inc("seismo_records_total", 10, topic="a")
    metrics.inc("seismo_records_total", 5, topic="b")
    metrics.inc("seismo_dlq_total", 2, reason="invalid_json")
    for notifier, outcome in (("slack", "failed"), ("webhook", "failed"), ("slack", "delivered")):
        metrics.inc("seismo_alert_notifications_total", notifier=notifier, outcome=outcome)
    counters = pipeline_counters(metrics)
    assert (counters[RECORDS], counters[DEAD_LETTERS], counters[NOTIFIER_FAILURES]) == (15, 2, 2)
