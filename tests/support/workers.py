"""Factories for integration tests: worker processes, raw producers, topic readers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.api_tokens import client_token
from streams.kafka.admin import ensure_topics
from streams.settings import load_settings
from streams.store.reader import query_worker
from streams.testing.waiting import wait_for


@dataclass
class Deployment:
    """One isolated Seismo deployment: its own topics, consumer group and ClickHouse dir."""

    bootstrap: str
    root: Path
    web_port: int
    name: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    starts: int = 0

    @property
    def traces_topic(self) -> str:
        return f"t{self.name}.llm.traces"

    @property
    def dlq_topic(self) -> str:
        return f"t{self.name}.llm.traces.dlq"

    @property
    def feedback_topic(self) -> str:
        return f"t{self.name}.llm.feedback"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        env.update(
            {
                "SEISMO_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "SEISMO_TRACES_TOPIC": self.traces_topic,
                "SEISMO_FEEDBACK_TOPIC": self.feedback_topic,
                "SEISMO_DLQ_TOPIC": self.dlq_topic,
                "SEISMO_ALERTS_TOPIC": f"t{self.name}.seismo.alerts",
                "SEISMO_CONSUMER_GROUP": f"seismo-{self.name}",
                "SEISMO_CLICKHOUSE_URL": f"chdb://{self.root / 'chdb'}",
                "SEISMO_DATA_DIR": str(self.root / "data"),
                "SEISMO_WEB_PORT": str(self.web_port),
                "SEISMO_LOG_FORMAT": "json",
                **self.extra_env,
            }
        )
        return env

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def create_topics(self, partitions: int = 4) -> None:
        """Create the source topics as an operator would before producers start."""
        asyncio.run(
            ensure_topics(
                self.bootstrap, {self.traces_topic: partitions, self.feedback_topic: partitions}
            )
        )

    def start(self) -> None:
        self.starts += 1
        self.log_path = self.root / f"worker-{self.starts}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streams", "worker"],
            env=self.env(),
            stdout=open(self.log_path, "wb"),
            stderr=subprocess.STDOUT,
        )
        wait_for(self._healthy, 90, "the worker's API to answer")

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log()}")
        try:
            with urllib.request.urlopen(self.api + "/api/health", timeout=2):
                return True
        except urllib.error.HTTPError:  # it answers: unhealthy (503, not progressing) is up
            return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def health(self) -> tuple[int, dict[str, Any]]:
        """The /api/health status code and body (503 included: the body says why)."""
        try:
            with urllib.request.urlopen(self.api + "/api/health", timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    @property
    def token(self) -> str:
        """The token a CLI with this deployment's settings sends (the worker's generated admin
        token unless extra_env configures one)."""
        return client_token(load_settings(env=self.env()))

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> list[list[Any]]:
        return query_worker(self.api, sql, parameters, token=self.token)[1]

    def scalar(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        return self.query(sql, parameters)[0][0]

    def wait_rows(self, sql: str, expected: int, timeout: float = 120) -> int:
        """Wait until the scalar ``sql`` reaches ``expected``; fail if it overshoots."""

        def reached() -> bool:
            value = self.scalar(sql)
            assert value <= expected, f"{sql} gave {value} > {expected}"
            return value == expected

        wait_for(reached, timeout, f"{sql} == {expected}")
        return expected


def produce_raw(
    bootstrap: str, topic: str, values: Iterable[bytes], keys: Iterable[bytes | None] | None = None
) -> int:
    """Publish raw values with aiokafka, like any app would; returns how many."""

    async def run() -> int:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", max_request_size=16 * 1024 * 1024
        )
        await producer.start()
        try:
            futures = []
            key_list = list(keys) if keys is not None else None
            for i, value in enumerate(values):
                key = key_list[i] if key_list is not None else None
                futures.append(await producer.send(topic, value, key=key))
            await asyncio.gather(*futures)
            return len(futures)
        finally:
            await producer.stop()

    return asyncio.run(run())


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 60) -> list[Any]:
    """Read from the start until ``expected`` records arrived (or fail at ``timeout``)."""

    async def run() -> list[Any]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=32 * 1024 * 1024,
        )
        await consumer.start()
        records: list[Any] = []
        try:
            deadline = time.monotonic() + timeout
            while len(records) < expected and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for messages in batch.values():
                    records.extend(messages)
            return records
        finally:
            await consumer.stop()

    return asyncio.run(run())
