"""The Faust app: topics, agents and the read-only web API, built from one Settings object.

Agents are short: each takes a batch with ``noack_take`` (bounded by size and time), hands it
to its pipeline, and acknowledges the batch's offsets only after the pipeline has written it.
Faust commits acknowledged offsets only, so a crash at any point replays, never skips.
"""

from __future__ import annotations

import logging
import ssl
from datetime import datetime
from typing import Any

import faust
from faust.web import Request, Response, View

from schemas.tables import EVENT_COLUMNS, EVENTS, FEEDBACK, FEEDBACK_COLUMNS
from streams.dead_letters import DeadLetters
from streams.decode import feedback_decoder, trace_decoder
from streams.metrics import Metrics
from streams.pipeline import IngestPipeline
from streams.pricing import PriceTable
from streams.records import Record
from streams.rows import event_row, feedback_row
from streams.settings import Settings
from streams.sink import ClickHouseSink
from streams.store import ClickHouseStore

log = logging.getLogger(__name__)

MAX_RECORD_BYTES = 16 * 1024 * 1024  # what the DLQ must be able to carry whole


def broker_credentials(settings: Settings) -> Any:
    """Faust's form of the SASL/SSL settings (None for PLAINTEXT)."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = settings.kafka_client_options().get("ssl_context")
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            mechanism=settings.kafka_sasl_mechanism or "PLAIN",
            ssl_context=context,
        )
    return faust.SSLCredentials(context or ssl.create_default_context())


def _record(event: Any) -> Record:
    message = event.message
    return Record(
        value=event.value,
        key=message.key,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        headers=tuple((k, bytes(v)) for k, v in (message.headers or ())),
    )


def build_app(
    settings: Settings, store: ClickHouseStore, metrics: Metrics | None = None
) -> faust.App:
    metrics = metrics or Metrics()
    app = faust.App(
        settings.consumer_group,
        broker=settings.broker_url,
        broker_credentials=broker_credentials(settings),
        store="memory://",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        producer_max_request_size=MAX_RECORD_BYTES,
        consumer_max_fetch_size=MAX_RECORD_BYTES,
        web_enabled=True,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        datadir=f"{settings.data_dir}/faust",
        key_serializer="raw",
        value_serializer="raw",
    )
    traces = app.topic(settings.traces_topic, value_type=bytes, key_type=bytes)
    feedback = app.topic(settings.feedback_topic, value_type=bytes, key_type=bytes)
    dlq = app.topic(settings.dlq_topic, value_type=bytes, key_type=bytes)

    async def send_dead_letter(key: bytes | None, value: bytes | None, headers: list) -> Any:
        return await dlq.send(key=key, value=value, headers=headers)

    dead_letters = DeadLetters(send_dead_letter)
    prices = PriceTable(settings.prices)
    trace_pipeline = IngestPipeline(
        decode=trace_decoder(settings.max_event_bytes, settings.max_future_skew_seconds),
        to_row=lambda event, now: event_row(event, now, prices),
        sink=ClickHouseSink(store, EVENTS, EVENT_COLUMNS),
        dead_letters=dead_letters,
        metrics=metrics,
    )
    feedback_pipeline = IngestPipeline(
        decode=feedback_decoder(settings.max_event_bytes, settings.max_future_skew_seconds),
        to_row=feedback_row,
        sink=ClickHouseSink(store, FEEDBACK, FEEDBACK_COLUMNS),
        dead_letters=dead_letters,
        metrics=metrics,
    )

    async def consume(stream: Any, pipeline: IngestPipeline) -> None:
        async for events in stream.noack_take(settings.batch_size, within=settings.batch_seconds):
            await pipeline.process([_record(e) for e in events])
            for event in events:
                await stream.ack(event)

    @app.agent(traces, name="ingest_traces")
    async def ingest_traces(stream: Any) -> None:
        await consume(stream, trace_pipeline)

    @app.agent(feedback, name="ingest_feedback")
    async def ingest_feedback(stream: Any) -> None:
        await consume(stream, feedback_pipeline)

    _add_web_api(app, store, metrics)
    app.seismo_metrics = metrics  # type: ignore[attr-defined]
    return app


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:
        return None
    return value


def _add_web_api(app: faust.App, store: ClickHouseStore, metrics: Metrics) -> None:
    """The read-only API other processes use while this worker holds the embedded store."""

    @app.page("/api/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"ok": True, "counters": metrics.snapshot()})

    @app.page("/api/query")
    class Query(View):
        async def post(self, request: Request) -> Response:
            body = await request.json()
            try:
                columns, rows = await store.run(
                    store.query_readonly, body["sql"], body.get("parameters")
                )
            except Exception as exc:  # the reader gets the error, the worker carries on
                return self.json({"error": str(exc).splitlines()[0]}, status=400)
            return self.json({"columns": columns, "rows": _json_safe(rows)})

    @app.page("/metrics")
    class Prometheus(View):
        async def get(self, request: Request) -> Response:
            return self.text(metrics.render(), content_type="text/plain; version=0.0.4")
