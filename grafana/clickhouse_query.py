"""A typed ClickHouse panel/alert query for grafana-foundation-sdk.

The SDK ships typed query builders for the core data sources only; this is the one for
``grafana-clickhouse-datasource`` (v4), producing the query JSON its query editor saves in SQL
mode. Being immutable, a query is its own builder, so it goes straight into ``with_target``
and alert ``Query.model``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.variants import Dataquery

from grafana.datasource import DATASOURCE_TYPE, DATASOURCE_UID


class QueryFormat(IntEnum):
    """The plugin's ``format`` (sqlds ``FormatQueryOption``): how rows become data frames.

    ``TIME_SERIES``: the first column is the time; string columns become series labels (long
    to wide). ``TABLE``: rows as they are; in alerting each row is one alert instance whose
    string columns are its labels and whose one numeric column is its value.
    """

    TIME_SERIES = 0
    TABLE = 1

    @property
    def query_type(self) -> str:
        """The editor's ``queryType`` matching the format."""
        return "timeseries" if self is QueryFormat.TIME_SERIES else "table"


@dataclass(frozen=True)
class ClickHouseQuery(Dataquery, Builder[Dataquery]):
    """One raw-SQL query of the ClickHouse data source.

    Parameters
    ----------
    ref_id : str
        The query's id within its panel or rule (``"A"``).
    raw_sql : str
        SQL with the plugin's macros (``$__timeFilter(col)`` ...) and template variables.
    format : QueryFormat
        Time series or table.
    datasource_uid : str
        The data source; Seismo's own by default.
    """

    ref_id: str
    raw_sql: str
    format: QueryFormat
    datasource_uid: str = DATASOURCE_UID

    def __post_init__(self) -> None:
        if not self.ref_id:
            raise ValueError("ref_id must not be empty")
        if not self.raw_sql.strip():
            raise ValueError("raw_sql must not be empty")

    def build(self) -> ClickHouseQuery:
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "refId": self.ref_id,
            "datasource": {"type": DATASOURCE_TYPE, "uid": self.datasource_uid},
            "editorType": "sql",
            "format": int(self.format),
            "queryType": self.format.query_type,
            "rawSql": self.raw_sql,
        }
