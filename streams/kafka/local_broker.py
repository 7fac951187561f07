"""A real single-node Apache Kafka (KRaft) on loopback, assembled from Maven Central jars.

For dev machines and tests that have Java and Maven but no Docker: the jars of
``org.apache.kafka:kafka_2.13:<version>`` are copied by ``mvn dependency:copy-dependencies``
into a cache outside the repository (``~/.cache/seismo/kafka/<version>``), the storage is
formatted once, and ``kafka.Kafka`` runs as a background JVM whose PID is recorded.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from streams.exceptions import KafkaUnavailable
from streams.settings import CACHE_ROOT

# Kafka 3.x logs through reload4j (log4j 1 API), 4.x through log4j2: each gets its binding.
# Both still declare slf4j-api 1.7.36, so 4.x needs log4j2's binding for SLF4J 1.x
# (log4j-slf4j-impl); with the 2.x one (log4j-slf4j2-impl) SLF4J falls back to its no-op
# logger and the broker writes no log at all.
_LOGGING_DEPENDENCIES = {
    "3": [("org.slf4j", "slf4j-reload4j", "1.7.36")],
    "4": [
        ("org.apache.logging.log4j", "log4j-slf4j-impl", "2.24.3"),
        ("org.apache.logging.log4j", "log4j-core", "2.24.3"),
    ],
}
_LOG4J1 = """log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.KafkaRaftServer=INFO
"""
_LOG4J2 = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
"""


@dataclass(frozen=True)
class LocalKafka:
    """Where one local broker lives and how it listens."""

    version: str = "3.9.1"
    port: int = 9092
    home: Path | str | None = None  # state dir (logs, pid, data); default under the cache

    @property
    def root(self) -> Path:
        return Path(self.home or CACHE_ROOT / "kafka-run" / f"{self.version}-{self.port}")

    @property
    def libs(self) -> Path:
        return CACHE_ROOT / "kafka" / self.version / "libs"

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.root / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "kafka.log"

    # -- assembling -------------------------------------------------------------------------
    def ensure_jars(self) -> Path:
        """Copy the broker's jars from Maven Central into the cache (once per version and set
        of dependencies: the marker records the set, so a changed one is fetched again)."""
        deps = [("org.apache.kafka", "kafka_2.13", self.version)]
        deps += _LOGGING_DEPENDENCIES.get(self.version.split(".")[0], _LOGGING_DEPENDENCIES["4"])
        wanted = "\n".join(":".join(d) for d in deps)
        marker = self.libs / ".complete"
        if marker.exists() and marker.read_text() == wanted:
            return self.libs
        if not shutil.which("mvn"):
            raise KafkaUnavailable("Maven (mvn) is not installed; it is needed to fetch Kafka jars")
        if not shutil.which("java"):
            raise KafkaUnavailable("Java is not installed; the local Kafka broker needs Java 17+")
        build = self.libs.parent
        build.mkdir(parents=True, exist_ok=True)
        fetched = build / "libs.fetching"
        shutil.rmtree(fetched, ignore_errors=True)
        dep_xml = "".join(
            f"<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
            f"<version>{v}</version></dependency>"
            for g, a, v in deps
        )
        (build / "pom.xml").write_text(
            '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
            "<groupId>seismo</groupId><artifactId>kafka-dist</artifactId><version>1</version>"
            f"<dependencies>{dep_xml}</dependencies></project>"
        )
        result = subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={fetched}",
            ],
            cwd=build,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise KafkaUnavailable(
                f"mvn could not fetch Kafka {self.version}: "
                + (result.stdout + result.stderr).strip().splitlines()[-1:][0]
            )
        _replace_jars(self.libs, fetched)
        marker.write_text(wanted)
        return self.libs

    def _write_config(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        data = self.root / "data"
        config = self.root / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={data}",
                    "num.partitions=1",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=8",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    # 10 MB records are part of the hostile-input tests; the DLQ keeps them whole.
                    "message.max.bytes=16777216",
                    "replica.fetch.max.bytes=16777216",
                    "auto.create.topics.enable=true",
                    "",
                ]
            )
        )
        (self.root / "log4j.properties").write_text(_LOG4J1)
        (self.root / "log4j2.yaml").write_text(_LOG4J2)
        return config

    def _java(self, *args: str) -> list[str]:
        return [
            "java",
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{self.root / 'log4j.properties'}",
            f"-Dlog4j2.configurationFile={self.root / 'log4j2.yaml'}",
            "-cp",
            f"{self.libs}/*",
            *args,
        ]

    def _format(self, config: Path) -> None:
        if (self.root / "data" / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        result = subprocess.run(
            # `--cluster-id=` form: a base64 id may start with "-", which argparse would read
            # as an option.
            self._java("kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
                       "-c", str(config)),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise KafkaUnavailable(f"formatting Kafka storage failed: {result.stderr.strip()}")

    # -- lifecycle -----------------------------------------------------------------------------
    def pid(self) -> int | None:
        """PID of the running broker, or None."""
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid

    def is_listening(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def up(self, timeout: float = 90.0, fresh: bool = False) -> str:
        """Start the broker (if not running) and wait until it lists topics; returns bootstrap."""
        if self.pid() is not None:
            wait_until_ready(self.bootstrap, timeout)
            return self.bootstrap
        if self.is_listening():
            raise KafkaUnavailable(f"port {self.port} is taken by another process")
        if fresh and self.root.exists():
            shutil.rmtree(self.root)
        self.ensure_jars()
        config = self._write_config()
        self._format(config)
        log = open(self.log_file, "ab")  # noqa: SIM115 - the broker owns it for its lifetime
        process = subprocess.Popen(
            self._java("kafka.Kafka", str(config)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid_file.write_text(str(process.pid))
        try:
            wait_until_ready(self.bootstrap, timeout, process=process)
        except KafkaUnavailable:
            self.down()
            tail = self.log_file.read_text(errors="replace").splitlines()[-5:]
            raise KafkaUnavailable(
                f"Kafka {self.version} did not start on port {self.port}: " + " | ".join(tail)
            ) from None
        return self.bootstrap

    def down(self, timeout: float = 30.0) -> bool:
        """Stop the recorded broker; True if one was running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            _reap(pid)
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
            _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        return True


def _replace_jars(libs: Path, fetched: Path) -> None:
    """Make ``libs`` hold exactly the jars in ``fetched``, jar by jar: a broker already running
    from ``libs`` keeps the files it opened."""
    libs.mkdir(parents=True, exist_ok=True)
    new = {jar.name for jar in fetched.glob("*.jar")}
    for jar in libs.glob("*.jar"):
        if jar.name not in new:
            jar.unlink()
    for name in new:
        if not (libs / name).exists():
            (fetched / name).replace(libs / name)
    shutil.rmtree(fetched, ignore_errors=True)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_until_ready(
    bootstrap: str, timeout: float, process: subprocess.Popen | None = None
) -> None:
    """Poll until an admin client can list topics on ``bootstrap``."""
    from streams.kafka.admin import list_topics_sync, quiet

    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    # aiokafka logs every refused connection at ERROR; while a broker starts they are expected.
    with quiet("aiokafka"):
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise KafkaUnavailable(f"the broker process exited with code {process.returncode}")
            try:
                list_topics_sync(bootstrap, request_timeout=5.0)
                return
            except Exception as exc:  # the broker is still starting: client errors are expected
                last_error = exc
                time.sleep(0.5)
    raise KafkaUnavailable(f"no Kafka answered at {bootstrap} within {timeout:.0f}s: {last_error}")
