"""The composition root: one Settings object in, the worker's Faust app out.

:func:`build_app` builds the frozen parts and hands them in: :func:`build_window_service`
(clock, references, detectors, embedding), :func:`build_alerting` (rules, router, notifiers)
and :func:`build_ingest` (salt, redaction, dead letters, pipelines, ingest consumer); nothing
reaches for globals.

This package is the only one that imports Faust. The Faust app runs the worker's lifecycle
(:mod:`streams.service.worker`), the web API (:mod:`streams.service.web_api`), the
window-closing timer and the alert-delivery agent (which acknowledges each transition once
every notifier took it), in a consumer group of its own.

Ingestion (traces, feedback, OTLP) is not a Faust agent but one plain aiokafka consumer,
:class:`~streams.kafka.consumer.IngestConsumer`, in the group ``consumer_group``: it takes a
batch, hands each topic's records to that topic's pipeline, and commits the batch's offsets
only after the pipeline has written it, so a crash at any point replays, never skips. Why:
Faust's per-message path (an event object, callbacks and tasks, an ``ack`` per record) costs
dozens of times the plain consumer's CPU per event, more than the whole cheap path; the
figure, measured by ``bench/throughput.py``, is in the README, "Why ingestion is a plain
aiokafka consumer".
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import faust

from detectors.scanners.redaction import Redactor
from schemas.tables import EVENT_COLUMNS, EVENTS, FEEDBACK, FEEDBACK_COLUMNS
from streams.alerting import AlertDelivery, AlertEngine, build_notifiers, load_rules, retry_policy
from streams.alerting.budget import Budget
from streams.alerting.ingest_alerts import poison_transition
from streams.alerting.router import AlertRouter
from streams.api_tokens import worker_tokens
from streams.embedding.encoder import TextEmbedder
from streams.heap import freeze_startup_objects
from streams.ingest.dead_letters import DeadLetters
from streams.ingest.log_join import LogJoin
from streams.ingest.pipeline import IngestPipeline
from streams.ingest.pool import PreparePool
from streams.ingest.prepare import PrepareConfig, PrepareFn, Preparer
from streams.ingest.scan import EventScanner
from streams.kafka.consumer import IngestConsumer, consumer_options
from streams.kafka.lag import ConsumerLag
from streams.kafka.progress import ProgressWatch
from streams.metrics import Metrics
from streams.service.hooks import NO_HOOKS, WorkerHooks
from streams.service.live_page import add_live_page
from streams.service.watch import add_pipeline_watch
from streams.service.web_api import add_web_api
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.query_guard import ApiQueries
from streams.store.salt import resolve_salt
from streams.store.sink import ClickHouseSink
from streams.windows.change_tests import ChangeTests
from streams.windows.clock import WindowClock, WindowSpec
from streams.windows.job import WindowJob
from streams.windows.references import ReferenceResolver
from streams.windows.service import WindowService

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


def dlq_scrubber(redactor: Redactor) -> Any:
    """The redaction policy over a rejected record's bytes (invalid UTF-8 kept as it was)."""
    if redactor.policy == "raw":
        return None

    def scrub(raw: bytes) -> bytes:
        text = raw.decode("utf-8", "surrogateescape")
        return redactor(text).encode("utf-8", "surrogateescape")

    return scrub


def build_window_service(
    settings: Settings, store: ClickHouseStore, metrics: Metrics
) -> WindowService:
    """The window clock, the reference policy, the detectors and the embedding stage."""
    spec = WindowSpec(
        timedelta(seconds=settings.window_seconds),
        timedelta(seconds=settings.allowed_lateness_seconds),
        timedelta(seconds=settings.idle_close_seconds),
    )
    references = ReferenceResolver(
        store, spec, settings.reference_policy, settings.reference_events,
        settings.reference_windows, settings.split_by_prompt_version,
    )
    embedder = None
    if settings.embedding_enabled:
        embedder = TextEmbedder(
            settings.embedding_model, settings.embedding_device,
            settings.embedding_max_seq_length, settings.embedding_batch_size,
            settings.embedding_cache_size, settings.embedding_backend,
        )
    change_tests = ChangeTests(store, settings.signals, settings.split_by_prompt_version)
    job = WindowJob(store, embedder, spec, references, settings.drift, change_tests,
                    settings.toxicity_threshold, settings.injection_threshold)
    return WindowService(store, WindowClock(spec), job, metrics, settings.split_by_prompt_version)


def build_app(
    settings: Settings, store: ClickHouseStore, metrics: Metrics | None = None,
    hooks: WorkerHooks = NO_HOOKS,
) -> faust.App:
    """The worker: windows, alerting and ingestion built from ``settings``, in one Faust app."""
    metrics = metrics or Metrics()
    windows = build_window_service(settings, store, metrics)
    windows.restore()
    app = declare_app(settings)
    router = build_alerting(app, settings, store, metrics)
    windows.on_outcome = router.on_outcome
    add_pipeline_watch(app, settings, metrics, windows, router)
    build_ingest(app, settings, store, metrics, windows, router, hooks)
    progress = add_window_timer(app, settings, windows, metrics)
    api = add_web_api(app, settings, store, metrics, worker_tokens(settings), progress)
    add_live_page(api, settings, store, ApiQueries.from_settings(store, settings), metrics)
    app.seismo_metrics = metrics  # type: ignore[attr-defined]
    return app


def declare_app(settings: Settings) -> faust.App:
    return faust.App(
        # Not the ingest group: Faust's consumer (alert delivery) uses its own partition
        # assignor, and one group cannot mix it with the ingest consumer's plain aiokafka one.
        # Lag, and with it idle window closing, is measured on the ingest group.
        f"{settings.consumer_group}-alerts",
        broker=settings.broker_url,
        broker_credentials=broker_credentials(settings),
        broker_session_timeout=settings.kafka_session_timeout_seconds,
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
        # aiohttp's own cap on a body it reads whole; the API reads bodies capped itself.
        web_application_options={"client_max_size": settings.api_max_body_bytes},
        datadir=f"{settings.data_dir}/faust",
        key_serializer="raw",
        value_serializer="raw",
    )


def build_alerting(
    app: faust.App, settings: Settings, store: ClickHouseStore, metrics: Metrics
) -> AlertRouter:
    """The rules and the router that publishes their transitions to the alerts topic, and the
    agent that delivers them from there to the notifiers."""
    rules = load_rules(settings.alert_rules_path)
    engine = AlertEngine(
        rules, Budget(rules, settings.window_seconds, settings.false_pages_per_week))
    notifiers = build_notifiers(settings)
    alerts = app.topic(settings.alerts_topic, value_type=bytes, key_type=bytes)

    async def publish_alert(key: bytes, value: bytes) -> Any:
        return await alerts.send(key=key, value=value)

    router = AlertRouter(engine, store, publish_alert)
    router.restore()

    @app.agent(alerts, name="deliver_alerts")
    async def deliver_alerts(stream: Any) -> None:
        # Offsets advance only after every notifier took the transition (or refused it for
        # good): a receiver that is down gets it once it is back.
        retry = retry_policy(settings)
        async with AlertDelivery(notifiers, retry=retry, metrics=metrics) as delivery:
            await delivery.run(unacked_events(stream), value=lambda event: event.value,
                               ack=stream.ack)

    return router


async def unacked_events(stream: Any) -> AsyncIterator[Any]:
    """The stream's events one by one, taken in batches and left for the caller to ack."""
    async for events in stream.noack_take(100, within=1.0):
        for event in events:
            yield event


def build_ingest(
    app: faust.App, settings: Settings, store: ClickHouseStore, metrics: Metrics,
    windows: WindowService, router: AlertRouter, hooks: WorkerHooks,
) -> IngestConsumer:
    """The ingest consumer and its pipelines, started once the app runs."""
    dlq = app.topic(settings.dlq_topic, value_type=bytes, key_type=bytes)

    async def send_dead_letter(key: bytes | None, value: bytes | None, headers: list) -> Any:
        return await dlq.send(key=key, value=value, headers=headers)

    # One salt for the whole deployment: hash tags and user pseudonyms agree across workers.
    salt = resolve_salt(settings, store)
    redactor = Redactor(settings.redaction_policy, salt)
    dead_letters = DeadLetters(send_dead_letter, scrub=dlq_scrubber(redactor))
    # Trace and OTLP batches are prepared in ingest processes (unless there are none), feedback
    # (small, no scanners) in the event loop.
    config = PrepareConfig.from_settings(settings, salt)
    in_loop = Preparer(config)
    processes = (PreparePool(config, settings.ingest_processes, metrics)
                 if settings.ingest_processes else None)
    pool_or_loop = processes.for_source if processes is not None else in_loop.in_loop

    async def announce_poison(topic: str, records: int, detail: str) -> None:
        try:
            await router.announce([poison_transition(topic, records, detail)])
        except Exception:  # the records are in the DLQ and counted; the page is best effort
            log.exception("ingest: the poison-records alert could not be sent")

    pipelines = ingest_pipelines(
        settings, store, windows,
        events_prepare=lambda source: hooks.prepare(pool_or_loop(source)),
        feedback_prepare=in_loop.in_loop("feedback"),
        scanner=lambda: in_loop.scanner,
        dead_letters=dead_letters, metrics=metrics, on_poison=announce_poison,
        max_attempts=settings.batch_max_attempts,
    )
    ingest = IngestConsumer(
        pipelines, consumer_options(settings, MAX_RECORD_BYTES), metrics,
        settings.batch_size, settings.batch_seconds, processes=processes,
    )

    # Started once the app runs (its producer carries the DLQ), stopped before the producer:
    # Faust sends on_before_shutdown ahead of flushing and stopping it.
    @app.task
    async def run_ingest() -> None:
        if processes is None:
            in_loop.scanner  # noqa: B018  # loaded now, so that it is frozen with the rest
        # Faust and every model this process keeps are up: out of the collector's way.
        freeze_startup_objects()
        await ingest.run()

    @app.on_before_shutdown.connect
    async def stop_ingest(app: faust.App, **kwargs: Any) -> None:
        await ingest.stop()

    return ingest


def ingest_pipelines(
    settings: Settings, store: ClickHouseStore, windows: WindowService,
    events_prepare: Callable[[str], PrepareFn], feedback_prepare: PrepareFn,
    scanner: Callable[[], EventScanner], **pipeline_options: Any,
) -> dict[str, IngestPipeline | LogJoin]:
    """One pipeline per source topic; trace and OTLP events feed the windows. The OTLP logs
    topic comes last: a batch's spans are stored before its log records look for them."""
    trace_pipeline = IngestPipeline(
        prepare=events_prepare("trace"),
        sink=ClickHouseSink(store, EVENTS, EVENT_COLUMNS),
        on_written=windows.observe,
        **pipeline_options,
    )
    feedback_pipeline = IngestPipeline(
        prepare=feedback_prepare,
        sink=ClickHouseSink(store, FEEDBACK, FEEDBACK_COLUMNS),
        **pipeline_options,
    )
    pipelines = {settings.traces_topic: trace_pipeline, settings.feedback_topic: feedback_pipeline}
    if settings.otlp_topic:
        pipelines[settings.otlp_topic] = IngestPipeline(
            prepare=events_prepare("otlp"),
            sink=ClickHouseSink(store, EVENTS, EVENT_COLUMNS),
            on_written=windows.observe,
            **pipeline_options,
        )
    if settings.otlp_logs_topic:
        pipelines[settings.otlp_logs_topic] = LogJoin(
            store, scanner, pipeline_options["dead_letters"], pipeline_options["metrics"],
            settings.otlp_encoding, settings.max_otlp_bytes, settings.otlp_log_wait_seconds,
        )
    return pipelines


def add_window_timer(
    app: faust.App, settings: Settings, windows: WindowService, metrics: Metrics
) -> ProgressWatch:
    """Close due windows every ``close_check_seconds``, idle ones only once ingestion has
    caught up; returns the progress watch the timer feeds (the health route reads it)."""
    lag = ConsumerLag(
        ",".join(settings.bootstrap_servers()), settings.consumer_group,
        [t for t in (settings.traces_topic, settings.otlp_topic) if t],
        **settings.kafka_client_options(),
    )
    progress = ProgressWatch(settings.stall_seconds)

    @app.timer(interval=settings.close_check_seconds)
    async def close_windows() -> None:
        await windows.tick(caught_up=await measure_lag(lag, metrics, progress))

    return progress


async def measure_lag(lag: ConsumerLag, metrics: Metrics,
                      progress: ProgressWatch | None = None) -> bool:
    """Publish the group's lag as gauges (and hand it to ``progress``); True when every event
    partition is caught up."""
    partitions = await lag.measure()
    if partitions is None:
        for topic in lag.topics:
            metrics.set("seismo_consumer_lag", -1, topic=topic, partition="all")
        return False
    for (topic, partition), behind in partitions.items():
        metrics.set("seismo_consumer_lag", behind, topic=topic, partition=str(partition))
    if progress is not None:
        progress.observe(lag.committed, partitions)
        metrics.set("seismo_stalled_partitions", len(progress.stalled))
    return not any(partitions.values())
