"""Errors the running service raises, under one root."""

from __future__ import annotations


class SeismoError(Exception):
    """Root of every error Seismo raises on purpose."""


class ConfigError(SeismoError):
    """A setting has a bad value; the message is one line naming the setting."""

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {message}")


class KafkaUnavailable(SeismoError):
    """The Kafka cluster cannot be reached or the local broker cannot start."""


class SinkUnavailable(SeismoError):
    """A write to ClickHouse failed; carries how long to wait before retrying."""

    def __init__(self, message: str, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class RowsRefused(SeismoError):
    """ClickHouse refused a batch's rows for their content (not for being unavailable): the
    batch is retried, then split, so the record that makes it fail is dead-lettered."""
