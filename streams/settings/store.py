"""The ``store`` section: where ClickHouse is, and how long each table keeps its rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from schemas.tables import RETENTION_COLUMNS
from streams.settings.base import Section, check, setting

CLICKHOUSE_SCHEMES = ("chdb", "http", "https")
# DateTime ends in 2106: a TTL beyond it wraps around and would expire rows at once.
MAX_RETENTION_DAYS = 20_000


def _retention(days: int, what: str) -> Any:
    return setting(days, f"days {what} are kept after they were stored (0: forever)")


@dataclass(frozen=True, slots=True)
class StoreSettings(Section):
    clickhouse_url: str = setting(
        "chdb://.seismo/chdb", "`chdb://<dir>` (embedded) or `http(s)://user:pass@host:port`")
    clickhouse_database: str = setting("seismo", "the database Seismo's tables live in")
    # Retention in days per table (0: keep forever), a ClickHouse TTL counted from when the row
    # was stored, set by the worker's migrations. The per-event tables hold what users wrote
    # (prompts, completions, feedback comments), so they are kept for the shortest time that
    # still covers an incident review; embeddings a quarter, as pinned baselines and first_k
    # references read their sample from them; the aggregates hold no user text and serve a
    # year-over-year look at the same month (README, Retention and deletion).
    retention_days_events: int = _retention(30, "trace events")
    retention_days_feedback: int = _retention(30, "feedback events")
    retention_days_embeddings: int = _retention(90, "embedded samples")
    retention_days_window_metrics: int = _retention(395, "window aggregates")
    retention_days_drift: int = _retention(395, "window test results")
    retention_days_alerts: int = _retention(395, "alert transitions")

    def __post_init__(self) -> None:
        for name in self.retention_days():
            check(0 <= getattr(self, f"retention_days_{name}") <= MAX_RETENTION_DAYS,
                  f"retention_days_{name}",
                  f"must be 0 (keep forever) to {MAX_RETENTION_DAYS} days")
        scheme = urlparse(self.clickhouse_url).scheme
        check(
            scheme in CLICKHOUSE_SCHEMES,
            "clickhouse_url",
            f"unknown scheme {scheme + '://' if scheme else self.clickhouse_url!r}; "
            "use chdb://<dir>, http://host:8123 or https://host:8443",
        )

    def retention_days(self) -> dict[str, int]:
        """Days each table of ``schemas.tables.RETENTION_COLUMNS`` keeps its rows (0: forever)."""
        return {table: getattr(self, f"retention_days_{table}") for table in RETENTION_COLUMNS}
