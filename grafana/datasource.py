"""The ClickHouse data source Grafana reads Seismo's tables through.

Every dashboard panel and alert rule names the data source by its fixed uid, so a data source
pushed to another Grafana or provisioned from the file is the same one to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE_UID = "seismo-clickhouse"
DATASOURCE_TYPE = "grafana-clickhouse-datasource"
#: Environment variable Grafana expands in the provisioning file (``$CLICKHOUSE_PASSWORD``).
PASSWORD_ENV = "CLICKHOUSE_PASSWORD"
#: The ClickHouse server of ``docker-compose.yml`` as the Grafana container sees it.
DEFAULT_CLICKHOUSE_URL = "http://seismo@clickhouse:8123/seismo"

_DEFAULT_PORTS = {"http": 8123, "https": 8443, "clickhouse": 9000, "clickhouses": 9440}


def datasource_ref() -> DataSourceRef:
    """The reference every panel, variable and alert query carries."""
    return DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)


@dataclass(frozen=True)
class ClickHouseDatasource:
    """Connection settings of the ``grafana-clickhouse-datasource`` plugin (v4).

    Parameters
    ----------
    host, port : str, int
        ClickHouse as Grafana (not this machine) reaches it.
    protocol : {"http", "native"}
        The plugin's transport: the HTTP interface (8123/8443) or the native one (9000/9440).
    secure : bool
        TLS.
    username, database : str
        Login and default database; the password never lives here (see :meth:`api_payload`).
    """

    host: str = "clickhouse"
    port: int = 8123
    protocol: Literal["http", "native"] = "http"
    secure: bool = False
    username: str = "seismo"
    database: str = "seismo"
    name: str = "ClickHouse"

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("host must not be empty")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port must be a TCP port, got {self.port!r}")
        if self.protocol not in ("http", "native"):
            raise ValueError(f"protocol must be 'http' or 'native', got {self.protocol!r}")

    @classmethod
    def from_url(cls, url: str) -> tuple[ClickHouseDatasource, str | None]:
        """Settings and password from ``http(s)://user[:password]@host[:port][/database]``.

        ``clickhouse://`` and ``clickhouses://`` select the native protocol.

        Raises
        ------
        ValueError
            Naming ``url`` when the scheme or host is missing or unknown.
        """
        parsed = urlparse(url)
        if parsed.scheme not in _DEFAULT_PORTS or not parsed.hostname:
            raise ValueError(
                f"url must look like http(s)://user@host:port/database or "
                f"clickhouse(s)://user@host:port/database, got {parsed.scheme or url!r}"
            )
        database = parsed.path.strip("/") or cls.database
        datasource = cls(
            host=parsed.hostname,
            port=parsed.port or _DEFAULT_PORTS[parsed.scheme],
            protocol="http" if parsed.scheme.startswith("http") else "native",
            secure=parsed.scheme in ("https", "clickhouses"),
            username=unquote(parsed.username) if parsed.username else cls.username,
            database=database,
        )
        return datasource, unquote(parsed.password) if parsed.password else None

    def json_data(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "protocol": self.protocol,
            "secure": self.secure,
            "username": self.username,
            "defaultDatabase": self.database,
        }

    def provisioning(self) -> dict[str, Any]:
        """The ``datasources:`` entry of a provisioning file; Grafana expands the password."""
        return {
            "name": self.name,
            "uid": DATASOURCE_UID,
            "type": DATASOURCE_TYPE,
            "access": "proxy",
            "editable": False,
            "jsonData": self.json_data(),
            "secureJsonData": {"password": f"${PASSWORD_ENV}"},
        }

    def api_payload(self, password: str | None) -> dict[str, Any]:
        """Body of ``POST /api/datasources`` and ``PUT /api/datasources/uid/:uid``."""
        payload: dict[str, Any] = {
            "name": self.name,
            "uid": DATASOURCE_UID,
            "type": DATASOURCE_TYPE,
            "access": "proxy",
            "jsonData": self.json_data(),
        }
        if password is not None:
            payload["secureJsonData"] = {"password": password}
        return payload
