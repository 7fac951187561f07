"""The environment variables that are not settings of a section, read here and nowhere else.

``SEISMO_CONFIG`` names the TOML file, ``SEISMO_CACHE_DIR`` is where downloads and exports are
cached (read when the first module needs it, before any settings exist: the local broker of
the test fixtures has none), and ``SEISMO_EXPLAIN_API_KEY`` is a secret that must never sit in
a file or in the settings object, where a log line or a ``repr`` could show it; nor is
``CLICKHOUSE_PASSWORD``, which ``seismo grafana push`` hands to Grafana.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

ENV_PREFIX = "SEISMO_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"
CACHE_DIR_ENV = ENV_PREFIX + "CACHE_DIR"
EXPLAIN_API_KEY_ENV = ENV_PREFIX + "EXPLAIN_API_KEY"
# The name Grafana's provisioned data source expands too (grafana/datasource.py).
CLICKHOUSE_PASSWORD_ENV = "CLICKHOUSE_PASSWORD"
# Names people already use for these two; honoured when the SEISMO_ one is not set.
ENV_ALIASES = {
    "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "clickhouse_url": "CLICKHOUSE_URL",
}
#: Environment-only variables and their meaning (the README's configuration table lists them).
ENVIRONMENT_ONLY = {
    CONFIG_ENV: "the TOML file of settings (keys under `[seismo]` or `[seismo.<section>]`)",
    CACHE_DIR_ENV: "cache of the local broker's jars and the ONNX exports "
                   "(default `~/.cache/seismo`)",
    EXPLAIN_API_KEY_ENV: "bearer token of the `explain_url` endpoint (environment only, never "
                         "logged)",
    CLICKHOUSE_PASSWORD_ENV: "the ClickHouse password `seismo grafana push` gives Grafana's data "
                             "source when the URL has none",
}


def environment(env: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """``env``, or the process environment when None."""
    return os.environ if env is None else env


def cache_root(env: Mapping[str, str] | None = None) -> Path:
    """Where Seismo caches what it downloads or builds: ``SEISMO_CACHE_DIR`` or
    ``~/.cache/seismo``."""
    return Path(environment(env).get(CACHE_DIR_ENV) or Path.home() / ".cache" / "seismo")


def explain_api_key(env: Mapping[str, str] | None = None) -> str:
    """The explaining endpoint's key, from the environment only (empty: none)."""
    return environment(env).get(EXPLAIN_API_KEY_ENV, "")



def clickhouse_password(env: Mapping[str, str] | None = None) -> str | None:
    """The password for Grafana's ClickHouse data source, from the environment only."""
    return environment(env).get(CLICKHOUSE_PASSWORD_ENV)


#: The cache directory of this process (the environment when Seismo was imported).
CACHE_ROOT = cache_root()
