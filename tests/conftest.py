"""Session-wide real services: the Kafka broker every integration test shares."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from streams.testing.ports import free_port

pytest_plugins = ["tests.support.fixtures"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The external cluster if KAFKA_BOOTSTRAP_SERVERS is set, else testcontainers' Kafka when
    a Docker engine answers, else the local broker from Maven jars (version: SEISMO_KAFKA_VERSION).
    """
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    from streams.exceptions import KafkaUnavailable
    from streams.kafka.local_broker import LocalKafka

    version = os.environ.get("SEISMO_KAFKA_VERSION", "3.9.1")
    broker = LocalKafka(
        version=version, port=free_port(pairs=2), home=tmp_path_factory.mktemp("kafka")
    )
    try:
        bootstrap = broker.up(timeout=120)
    except KafkaUnavailable as exc:
        pytest.fail(
            f"No Kafka broker for the tests: KAFKA_BOOTSTRAP_SERVERS is unset, no Docker "
            f"engine answers, and the local jar broker failed ({exc})",
            pytrace=False,
        )
    yield bootstrap
    broker.down()
