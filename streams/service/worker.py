"""Start a worker: check the settings against the real services, then run its Faust app."""

from __future__ import annotations

import asyncio
import logging
import logging.config
from pathlib import Path

import faust

from streams.heap import tune_malloc
from streams.kafka.admin import ensure_topics
from streams.service.app import build_app
from streams.service.hooks import NO_HOOKS, WorkerHooks
from streams.service.logs import logging_config
from streams.settings import Settings
from streams.store.client import ClickHouseStore

log = logging.getLogger(__name__)


def prepare(settings: Settings) -> ClickHouseStore:
    """Everything that can fail on configuration, before Faust starts (ConfigError if so)."""
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    store = ClickHouseStore(settings.clickhouse_url, settings.clickhouse_database)
    changes = [c for c in store.migrate(settings.retention_days()) if c.startswith("ALTER")]
    source = settings.topic_partitions
    asyncio.run(
        ensure_topics(
            ",".join(settings.bootstrap_servers()),
            {
                settings.traces_topic: source,
                settings.feedback_topic: source,
                settings.dlq_topic: 0,
                settings.alerts_topic: source,
                **{topic: source for topic in (settings.otlp_topic, settings.otlp_logs_topic)
                   if topic},
            },
            replication=settings.topic_replication,
            **settings.kafka_client_options(),
        )
    )
    # Logged once every check has passed, so that a bad setting is still one line of output.
    if changes:
        log.info("retention changed: %s", "; ".join(changes))
    return store


def run(settings: Settings, hooks: WorkerHooks = NO_HOOKS) -> None:
    """Run the worker until it is stopped; ``hooks`` wrap its store and preparations (the
    fault tests' way in, see :mod:`streams.service.hooks`)."""
    # Before any thread starts: large transient buffers go back to the OS when freed, and two
    # arenas, not glibc's eight per core, keep freed memory of their own (see streams.heap).
    tune_malloc()
    config = logging_config(settings.log_format)
    logging.config.dictConfig(config)
    store = hooks.store(prepare(settings))
    app = build_app(settings, store, hooks=hooks)
    worker = faust.Worker(app, loglevel="INFO", logging_config=config, redirect_stdouts=False)
    try:
        worker.execute_from_commandline()
    finally:
        store.close()
