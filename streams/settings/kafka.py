"""The ``kafka`` section: the cluster, its security, the topics and the consumer group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.settings.base import Section, check, check_at_least, setting, split_list

KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


@dataclass(frozen=True, slots=True)
class KafkaSettings(Section):
    kafka_bootstrap_servers: str = setting(
        "127.0.0.1:9092", "the cluster, comma-separated host:port")
    kafka_security_protocol: str = setting(
        "PLAINTEXT", "`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`")
    kafka_sasl_mechanism: str = setting("", "SASL mechanism: PLAIN (empty), SCRAM-SHA-256/512")
    kafka_sasl_username: str = setting("", "SASL user")
    kafka_sasl_password: str = setting("", "SASL password", secret=True)
    kafka_ssl_cafile: str = setting("", "TLS: CA bundle (empty: the system's)")
    kafka_ssl_certfile: str = setting("", "TLS: client certificate")
    kafka_ssl_keyfile: str = setting("", "TLS: client key")
    kafka_version: str = setting("3.9.1", "the local broker `seismo kafka up` assembles")
    kafka_port: int = setting(9092, "the local broker's port")
    traces_topic: str = setting("llm.traces", "the trace events' topic")
    feedback_topic: str = setting("llm.feedback", "the feedback events' topic")
    dlq_topic: str = setting("llm.traces.dlq", "rejected records (original bytes + reason)")
    alerts_topic: str = setting("seismo.alerts", "alert transitions")
    otlp_topic: str = setting(
        "", "the OTel Collector kafka exporter's topic, e.g. `otlp_spans` (empty: off)")
    otlp_logs_topic: str = setting(
        "", "the kafka exporter's logs topic, e.g. `otlp_logs`: GenAI log records filling in "
        "their spans' prompt and completion (empty: off)")
    topic_partitions: int = setting(
        4, "partitions of the source topics (created before the worker starts)")
    topic_replication: int = setting(1, "replication factor of the topics Seismo creates")
    consumer_group: str = setting(
        "seismo", "the ingest consumer's group (lag is measured on it); Faust's alert "
        "delivery uses `<group>-alerts`")
    # Kafka's own default; a SIGKILLed worker's partitions move after this.
    kafka_session_timeout_seconds: float = setting(
        45.0, "how long the group waits for a silent worker before moving its partitions")

    def __post_init__(self) -> None:
        check_at_least(self, 1, "topic_partitions", "topic_replication")
        check(not self.otlp_logs_topic or bool(self.otlp_topic), "otlp_logs_topic",
              "needs otlp_topic: its log records are joined to the spans of that topic")
        check(self.kafka_session_timeout_seconds >= 6, "kafka_session_timeout_seconds",
              "must be at least 6 (the broker's group.min.session.timeout.ms)")
        check(1 <= self.kafka_port <= 65535, "kafka_port", "must be a TCP port")
        check(
            self.kafka_security_protocol in KAFKA_SECURITY_PROTOCOLS,
            "kafka_security_protocol",
            f"must be one of {', '.join(KAFKA_SECURITY_PROTOCOLS)}",
        )
        check(bool(self.bootstrap_servers()), "kafka_bootstrap_servers", "is empty")
        for server in self.bootstrap_servers():
            host, sep, port = server.rpartition(":")
            check(
                bool(sep and host and port.isdigit()),
                "kafka_bootstrap_servers",
                f"{server!r} is not host:port",
            )

    def bootstrap_servers(self) -> list[str]:
        return split_list(self.kafka_bootstrap_servers)

    @property
    def broker_url(self) -> str:
        """The Faust form: ``kafka://h1:p1;h2:p2``."""
        return "kafka://" + ";".join(self.bootstrap_servers())

    def kafka_client_options(self) -> dict[str, Any]:
        """Security settings passed through to every aiokafka client."""
        options: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_security_protocol.startswith("SASL"):
            options.update(
                sasl_mechanism=self.kafka_sasl_mechanism or "PLAIN",
                sasl_plain_username=self.kafka_sasl_username,
                sasl_plain_password=self.kafka_sasl_password,
            )
        if "SSL" in self.kafka_security_protocol:
            import ssl

            context = ssl.create_default_context(cafile=self.kafka_ssl_cafile or None)
            if self.kafka_ssl_certfile:
                context.load_cert_chain(self.kafka_ssl_certfile, self.kafka_ssl_keyfile or None)
            options["ssl_context"] = context
        return options
