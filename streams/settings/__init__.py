"""The one settings object: ``SEISMO_*`` environment variables over an optional TOML file.

Everything configurable lives here, is validated once at start, and a bad value becomes one
:class:`ConfigError` line naming the setting (the CLI prints it without a traceback).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from schemas.tables import RETENTION_COLUMNS
from streams.exceptions import ConfigError

ENV_PREFIX = "SEISMO_"
# Names people already use for these two; honoured when the SEISMO_ one is not set.
ENV_ALIASES = {
    "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "clickhouse_url": "CLICKHOUSE_URL",
}
CLICKHOUSE_SCHEMES = ("chdb", "http", "https")
REDACTION_POLICIES = ("raw", "redact", "hash")
REFERENCE_POLICIES = ("first_k", "trailing", "pinned")
EMBEDDING_BACKENDS = ("torch", "onnx-int8")
MAPPING_SETTINGS = ("prices", "max_rates", "slo_p95_ms")
KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MAX_RETENTION_DAYS = 20_000


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per 1,000 tokens."""

    input_per_1k: float
    output_per_1k: float


# Published list prices at the time of writing; override per deployment in the TOML file.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(0.00015, 0.0006),
    "gpt-4o": ModelPrice(0.0025, 0.01),
    "claude-3-5-haiku": ModelPrice(0.0008, 0.004),
    "claude-3-5-sonnet": ModelPrice(0.003, 0.015),
    "llama-3.1-8b": ModelPrice(0.00005, 0.00008),
}


@dataclass(frozen=True, slots=True)
class Settings:
    # Kafka
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = ""
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = field(default="", repr=False)
    kafka_ssl_cafile: str = ""
    kafka_ssl_certfile: str = ""
    kafka_ssl_keyfile: str = ""
    kafka_version: str = "3.9.1"  # the local broker `seismo kafka up` assembles
    kafka_port: int = 9092  # the local broker's port
    traces_topic: str = "llm.traces"
    feedback_topic: str = "llm.feedback"
    dlq_topic: str = "llm.traces.dlq"
    alerts_topic: str = "seismo.alerts"
    otlp_topic: str = ""  # e.g. otlp_spans: the OTel Collector kafka exporter's topic
    otlp_encoding: str = "auto"  # otlp_json | otlp_proto | auto
    max_otlp_bytes: int = 16_777_216  # a Collector batch is larger than one event
    topic_partitions: int = 4
    topic_replication: int = 1
    consumer_group: str = "seismo"
    # How long the group waits for a silent worker before giving its partitions to the others
    # (Kafka's own default; a SIGKILLed worker's partitions move after this).
    kafka_session_timeout_seconds: float = 45.0
    # ClickHouse
    clickhouse_url: str = "chdb://.seismo/chdb"
    clickhouse_database: str = "seismo"
    # Worker
    data_dir: str = ".seismo"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    # The worker's API (README, API and security): bearer tokens, an admin one in api_token
    # (or api_token_file), named read/admin ones in api_tokens_file ("name scope token" lines).
    # With none set the worker generates one into <data_dir>/api_token and serves loopback only.
    api_token: str = field(default="", repr=False)
    api_token_file: str = ""
    api_tokens_file: str = ""
    metrics_public: bool = True  # /metrics without a token, for a Prometheus on the network
    api_max_body_bytes: int = 1_048_576
    # Limits ClickHouse enforces on every POST /api/query. The store runs one call at a time,
    # so a query holds up the worker's inserts while it runs: keep the time modest.
    query_timeout_seconds: float = 10.0
    query_max_result_rows: int = 100_000
    query_max_result_bytes: int = 64 * 1024 * 1024
    query_max_rows_to_read: int = 1_000_000_000
    query_max_bytes_to_read: int = 16 * 1024 * 1024 * 1024
    query_max_memory_bytes: int = 1024 * 1024 * 1024
    batch_size: int = 2000
    batch_seconds: float = 1.0
    # Tries of a batch that fails for some record's sake (not ClickHouse or the DLQ being away,
    # which are waited out) before it is split to dead-letter its poison records as "poison".
    batch_max_attempts: int = 3
    # /api/health says "not progressing" (503) once a partition's committed offset has stood
    # still this long while its lag grew.
    stall_seconds: float = 60.0
    # Processes that decode and scan the trace and OTLP batches beside the worker's event loop
    # (0: all of it in the event loop); see streams/ingest/pool.py. Two use both cores of a
    # 2-core machine: the event loop's own share (inserts, commits) is small beside them.
    ingest_processes: int = 2
    max_event_bytes: int = 1_048_576
    max_future_skew_seconds: float = 3600.0
    redaction_policy: str = "redact"
    # Keys hash tags and user_id pseudonyms; empty: one generated per deployment
    # (streams.store.salt).
    redaction_salt: str = field(default="", repr=False)
    log_format: str = "auto"  # auto | json | console
    # Windows
    window_seconds: float = 300.0
    allowed_lateness_seconds: float = 30.0
    idle_close_seconds: float = 60.0
    close_check_seconds: float = 1.0
    split_by_prompt_version: bool = False
    # References
    reference_policy: str = "first_k"  # first_k | trailing | pinned
    reference_events: int = 1000
    reference_windows: int = 1
    # Embedding drift
    embedding_enabled: bool = True
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_device: str = "auto"
    # torch: sentence-transformers on embedding_device; onnx-int8: the same model exported to
    # int8 ONNX Runtime on the CPU (README, Configuration: why torch stays the default)
    embedding_backend: str = "torch"
    embedding_max_seq_length: int = 256
    embedding_batch_size: int = 64
    embedding_cache_size: int = 20_000
    embedding_sample: int = 500
    reference_sample: int = 500
    drift_fields: str = "prompt,completion"
    drift_alpha: float = 0.01
    drift_permutations: int = 500
    min_window_events: int = 20
    # Per-event signals and their window tests
    signal_alpha: float = 0.001
    toxicity_threshold: float = 0.5
    injection_threshold: float = 0.75
    toxicity_model_dir: str = ""
    # Report: a one-sentence explanation of each topic cluster from an OpenAI-compatible
    # endpoint (POST {explain_url}/chat/completions); empty URL = off. The API key is read from
    # the environment only (SEISMO_EXPLAIN_API_KEY), never from a file or the settings.
    explain_url: str = ""
    explain_model: str = "gpt-4o-mini"
    explain_timeout_seconds: float = 20.0
    # Alerting: rules, and the notifiers (a notifier is on when its URL or key is set)
    alerts_file: str = ""  # empty: streams/alerting/default_rules.yaml
    alertmanager_urls: str = ""
    alertmanager_firing_ttl_seconds: float = 86400.0
    pagerduty_routing_key: str = field(default="", repr=False)
    pagerduty_routing_key_file: str = ""
    pagerduty_url: str = "https://events.pagerduty.com/v2/enqueue"
    pagerduty_severities: str = ""
    slack_webhook_url: str = field(default="", repr=False)
    slack_webhook_url_file: str = ""
    slack_severities: str = ""
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    webhook_secret_file: str = ""
    webhook_states: str = "firing,resolved"
    notify_max_attempts: int = 4
    notify_timeout_seconds: float = 10.0
    notify_initial_backoff_seconds: float = 0.5
    notify_max_backoff_seconds: float = 30.0
    # Retention in days per table (0: keep forever), a ClickHouse TTL counted from when the row
    # was stored, set by the worker's migrations. The per-event tables hold what users wrote
    # (prompts, completions, feedback comments), so they are kept for the shortest time that
    # still covers an incident review; embeddings a quarter, as pinned baselines and first_k
    # references read their sample from them; the aggregates hold no user text and serve a
    # year-over-year look at the same month (README, Retention and deletion).
    retention_days_events: int = 30
    retention_days_feedback: int = 30
    retention_days_embeddings: int = 90
    retention_days_window_metrics: int = 395
    retention_days_drift: int = 395
    retention_days_alerts: int = 395
    prices: Mapping[str, ModelPrice] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    max_rates: Mapping[str, float] = field(default_factory=dict)  # TOML only: absolute limits
    slo_p95_ms: Mapping[str, float] = field(default_factory=dict)  # TOML only: per app

    def __post_init__(self) -> None:
        _check(self.topic_partitions >= 1, "topic_partitions", "must be at least 1")
        _check(self.topic_replication >= 1, "topic_replication", "must be at least 1")
        _check(self.kafka_session_timeout_seconds >= 6, "kafka_session_timeout_seconds",
               "must be at least 6 (the broker's group.min.session.timeout.ms)")
        _check(self.batch_size >= 1, "batch_size", "must be at least 1")
        _check(self.batch_seconds > 0, "batch_seconds", "must be positive")
        _check(self.batch_max_attempts >= 1, "batch_max_attempts", "must be at least 1")
        _check(self.stall_seconds > 0, "stall_seconds", "must be positive")
        _check(self.ingest_processes >= 0, "ingest_processes", "must be 0 or more")
        _check(self.max_event_bytes >= 1024, "max_event_bytes", "must be at least 1024")
        _check(self.max_future_skew_seconds >= 0, "max_future_skew_seconds", "must be >= 0")
        _check(1 <= self.web_port <= 65535, "web_port", "must be a TCP port")
        _check(
            _is_loopback(self.web_host)
            or bool(self.api_token or self.api_token_file or self.api_tokens_file),
            "web_host",
            f"{self.web_host} is reachable from the network: set api_token (or api_token_file, "
            "api_tokens_file) before serving the API there",
        )
        _check(self.api_max_body_bytes >= 1024, "api_max_body_bytes", "must be at least 1024")
        _check(self.query_timeout_seconds > 0, "query_timeout_seconds", "must be positive")
        for name in ("query_max_result_rows", "query_max_result_bytes", "query_max_rows_to_read",
                     "query_max_bytes_to_read", "query_max_memory_bytes"):
            _check(getattr(self, name) >= 1, name, "must be at least 1")
        _check(1 <= self.kafka_port <= 65535, "kafka_port", "must be a TCP port")
        _check(
            self.redaction_policy in REDACTION_POLICIES,
            "redaction_policy",
            f"must be one of {', '.join(REDACTION_POLICIES)}, got {self.redaction_policy!r}",
        )
        _check(
            self.kafka_security_protocol in KAFKA_SECURITY_PROTOCOLS,
            "kafka_security_protocol",
            f"must be one of {', '.join(KAFKA_SECURITY_PROTOCOLS)}",
        )
        _check(
            self.otlp_encoding in ("auto", "otlp_json", "otlp_proto"),
            "otlp_encoding",
            f"must be auto, otlp_json or otlp_proto, got {self.otlp_encoding!r}",
        )
        _check(self.window_seconds > 0, "window_seconds", "must be positive")
        _check(self.allowed_lateness_seconds >= 0, "allowed_lateness_seconds", "must be >= 0")
        _check(self.idle_close_seconds > 0, "idle_close_seconds", "must be positive")
        _check(self.close_check_seconds > 0, "close_check_seconds", "must be positive")
        _check(
            self.reference_policy in REFERENCE_POLICIES,
            "reference_policy",
            f"must be one of {', '.join(REFERENCE_POLICIES)}, got {self.reference_policy!r}",
        )
        _check(self.reference_events >= 2, "reference_events", "must be at least 2")
        _check(self.reference_windows >= 1, "reference_windows", "must be at least 1")
        for name in ("drift_alpha", "signal_alpha"):
            _check(0 < getattr(self, name) < 1, name, "must be between 0 and 1")
        for name in ("toxicity_threshold", "injection_threshold"):
            _check(0 <= getattr(self, name) <= 1, name, "must be between 0 and 1")
        _check(self.drift_permutations >= 1, "drift_permutations", "must be at least 1")
        _check(
            not self.explain_url or urlparse(self.explain_url).scheme in ("http", "https")
            and bool(urlparse(self.explain_url).netloc),
            "explain_url",
            f"must be empty (off) or an http(s):// base URL, got {self.explain_url!r}",
        )
        _check(not self.explain_url or bool(self.explain_model.strip()), "explain_model",
               "is empty; name the model the endpoint serves")
        _check(self.explain_timeout_seconds > 0, "explain_timeout_seconds", "must be positive")
        for name in ("embedding_sample", "reference_sample", "min_window_events",
                     "embedding_batch_size", "embedding_max_seq_length"):
            _check(getattr(self, name) >= 2, name, "must be at least 2")
        unknown = set(self.drift_field_list()) - {"prompt", "completion"}
        _check(not unknown, "drift_fields", f"unknown field(s) {sorted(unknown)}")
        _check(
            self.embedding_device == "auto" or self.embedding_device.split(":")[0]
            in ("cpu", "cuda", "mps"),
            "embedding_device",
            "must be auto, cpu, cuda[:N] or mps",
        )
        _check(
            self.embedding_backend in EMBEDDING_BACKENDS,
            "embedding_backend",
            f"must be one of {', '.join(EMBEDDING_BACKENDS)}, got {self.embedding_backend!r}",
        )
        _check(
            self.embedding_backend == "torch" or self.embedding_device in ("auto", "cpu"),
            "embedding_backend",
            f"{self.embedding_backend} runs on the CPU; set embedding_device to auto or cpu",
        )
        for name in self.retention_days():
            # DateTime ends in 2106: a TTL beyond it wraps around and would expire rows at once.
            _check(0 <= getattr(self, f"retention_days_{name}") <= MAX_RETENTION_DAYS,
                   f"retention_days_{name}",
                   f"must be 0 (keep forever) to {MAX_RETENTION_DAYS} days")
        scheme = urlparse(self.clickhouse_url).scheme
        _check(
            scheme in CLICKHOUSE_SCHEMES,
            "clickhouse_url",
            f"unknown scheme {scheme + '://' if scheme else self.clickhouse_url!r}; "
            "use chdb://<dir>, http://host:8123 or https://host:8443",
        )
        _check(bool(self.bootstrap_servers()), "kafka_bootstrap_servers", "is empty")
        for server in self.bootstrap_servers():
            host, sep, port = server.rpartition(":")
            _check(
                bool(sep and host and port.isdigit()),
                "kafka_bootstrap_servers",
                f"{server!r} is not host:port",
            )

    @property
    def alert_rules_path(self) -> Path:
        if self.alerts_file:
            return Path(self.alerts_file)
        return Path(__file__).parent.parent / "alerting" / "default_rules.yaml"

    def retention_days(self) -> dict[str, int]:
        """Days each table of ``schemas.tables.RETENTION_COLUMNS`` keeps its rows (0: forever)."""
        return {table: getattr(self, f"retention_days_{table}") for table in RETENTION_COLUMNS}

    def drift_field_list(self) -> list[str]:
        return [f.strip() for f in self.drift_fields.split(",") if f.strip()]

    def bootstrap_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]

    @property
    def broker_url(self) -> str:
        """The Faust form: ``kafka://h1:p1;h2:p2``."""
        return "kafka://" + ";".join(self.bootstrap_servers())

    @property
    def chdb_path(self) -> str | None:
        """Data directory of the embedded engine, or None for a ClickHouse server."""
        parsed = urlparse(self.clickhouse_url)
        if parsed.scheme != "chdb":
            return None
        return str(Path(parsed.netloc + parsed.path).resolve())

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

    def secret(self, name: str) -> str:
        """The secret setting ``name``, or the stripped content of its ``<name>_file``."""
        value = getattr(self, name)
        path = getattr(self, name + "_file")
        if value and path:
            raise ConfigError(name, f"set either {name} or {name}_file, not both")
        if not path:
            return value
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(name + "_file", f"cannot read {path}: {exc.strerror}") from None

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _check(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ConfigError(name, message)


def _coerce(name: str, raw: Any, default: Any) -> Any:
    """Turn an environment string (or TOML value) into the type of the default."""
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}[
                str(raw).lower()
            ]
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except (ValueError, KeyError):
        raise ConfigError(name, f"cannot read {raw!r} as {type(default).__name__}") from None
    return str(raw) if isinstance(default, str) else raw


def _prices(table: Any) -> dict[str, ModelPrice]:
    prices = dict(DEFAULT_PRICES)
    if not isinstance(table, dict):
        raise ConfigError("prices", "must be a table of model = {input_per_1k, output_per_1k}")
    for model, entry in table.items():
        try:
            prices[model] = ModelPrice(float(entry["input_per_1k"]), float(entry["output_per_1k"]))
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                f"prices.{model}", "needs numeric input_per_1k and output_per_1k"
            ) from None
    return prices


def _numbers(name: str, table: Any) -> dict[str, float]:
    if not isinstance(table, dict):
        raise ConfigError(name, "must be a table of name = number")
    try:
        return {str(k): float(v) for k, v in table.items()}
    except (TypeError, ValueError):
        raise ConfigError(name, "every value must be a number") from None


def load_settings(
    env: Mapping[str, str] | None = None, config_file: str | Path | None = None, **overrides: Any
) -> Settings:
    """Build the settings: defaults < TOML file (``SEISMO_CONFIG``) < environment < overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    defaults = {f.name: f.default for f in fields(Settings) if f.name not in MAPPING_SETTINGS}
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if path:
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError("SEISMO_CONFIG", f"file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("SEISMO_CONFIG", f"{path} is not valid TOML: {exc}") from None
        section = data.get("seismo", data)
        for key, raw in section.items():
            if key == "prices":
                values["prices"] = _prices(raw)
            elif key in MAPPING_SETTINGS:
                values[key] = _numbers(key, raw)
            elif key in defaults:
                values[key] = _coerce(key, raw, defaults[key])
            else:
                raise ConfigError(key, f"is not a setting (in {path})")
    for name, default in defaults.items():
        for var in (ENV_PREFIX + name.upper(), ENV_ALIASES.get(name)):
            if var and env.get(var):
                values[name] = _coerce(var, env[var], default)
                break
    values.update(overrides)
    return Settings(**values)
