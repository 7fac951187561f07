"""What every command module shares: the consoles and the settings."""

from __future__ import annotations

import sys

from rich.console import Console

from streams.settings import Settings, load_settings

# Off a terminal (pipes, CI logs) rich assumes 80 columns; the status table needs more.
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)


def settings() -> Settings:
    return load_settings()


def named_cluster(settings: Settings) -> str | None:
    """The Kafka cluster the settings name, or None when they leave the default address,
    where the local broker of ``seismo kafka up`` listens."""
    bootstrap = settings.kafka_bootstrap_servers
    return None if bootstrap == load_settings(env={}).kafka_bootstrap_servers else bootstrap
