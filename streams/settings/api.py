"""The ``api`` section: the worker's process, its web API and the limits on a query there."""

from __future__ import annotations

from dataclasses import dataclass

from streams.settings.base import (
    Section,
    check,
    check_at_least,
    check_positive,
    is_loopback,
    setting,
)

QUERY_LIMITS = ("query_max_result_rows", "query_max_result_bytes", "query_max_rows_to_read",
                "query_max_bytes_to_read", "query_max_memory_bytes")


@dataclass(frozen=True, slots=True)
class ApiSettings(Section):
    data_dir: str = setting(".seismo", "the worker's own files (Faust's, a generated token)")
    log_format: str = setting("auto", "`json` (one object a line), `console`, or `auto` by "
                                      "terminal")
    web_host: str = setting("127.0.0.1", "the worker's API and `/metrics`: address")
    web_port: int = setting(6066, "the worker's API and `/metrics`: port")
    # The worker's API (README, API and security): bearer tokens, an admin one in api_token
    # (or api_token_file), named read/admin ones in api_tokens_file ("name scope token" lines).
    # With none set the worker generates one into <data_dir>/api_token and serves loopback only.
    api_token: str = setting("", "the admin bearer token of the API", secret=True)
    api_token_file: str = setting("", "a file holding `api_token`")
    api_tokens_file: str = setting("", "named read/admin tokens, `name scope token` lines")
    metrics_public: bool = setting(
        True, "`/metrics` without a token, for a Prometheus on the network")
    api_max_body_bytes: int = setting(1_048_576, "largest request body the API reads")
    # /api/health says "not progressing" (503) once a partition's committed offset has stood
    # still this long while its lag grew.
    stall_seconds: float = setting(
        60.0, "`/api/health` answers 503 `not progressing` once a partition's committed offset "
        "stood still this long while its lag grew")
    # Limits ClickHouse enforces on every POST /api/query. The store runs one call at a time,
    # so a query holds up the worker's inserts while it runs: keep the time modest.
    query_timeout_seconds: float = setting(10.0, "`POST /api/query`: longest run")
    query_max_result_rows: int = setting(100_000, "`POST /api/query`: most rows returned")
    query_max_result_bytes: int = setting(64 * 1024 * 1024,
                                          "`POST /api/query`: most bytes returned")
    query_max_rows_to_read: int = setting(1_000_000_000, "`POST /api/query`: most rows read")
    query_max_bytes_to_read: int = setting(16 * 1024 * 1024 * 1024,
                                           "`POST /api/query`: most bytes read")
    query_max_memory_bytes: int = setting(1024 * 1024 * 1024,
                                          "`POST /api/query`: most memory used")

    def __post_init__(self) -> None:
        check_positive(self, "stall_seconds")
        check(1 <= self.web_port <= 65535, "web_port", "must be a TCP port")
        check(
            is_loopback(self.web_host)
            or bool(self.api_token or self.api_token_file or self.api_tokens_file),
            "web_host",
            f"{self.web_host} is reachable from the network: set api_token (or api_token_file, "
            "api_tokens_file) before serving the API there",
        )
        check(self.api_max_body_bytes >= 1024, "api_max_body_bytes", "must be at least 1024")
        check_positive(self, "query_timeout_seconds")
        check_at_least(self, 1, *QUERY_LIMITS)
