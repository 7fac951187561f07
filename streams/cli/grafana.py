"""``seismo grafana``: write the provisioning files, or push the same objects to a Grafana."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from streams.cli.common import console
from streams.exceptions import ConfigError, SeismoError

grafana_app = typer.Typer(
    help="Grafana as code: data source, dashboards and alert rules.", no_args_is_help=True
)


@grafana_app.command("generate")
def generate(
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 if the files are stale."
    ),
    root: Path | None = typer.Option(
        None, "--root", help="Provisioning folder (default: grafana/provisioning)."
    ),
) -> None:
    """Write grafana/provisioning from the code (dashboards, rules, data source)."""
    from grafana.alert_rules import AlertSettings
    from grafana.generate import PROVISIONING, stale, write
    from streams.settings import Settings

    root = root or PROVISIONING
    rules = AlertSettings.following(Settings())  # the committed files: the worker's defaults
    if check:
        outdated = stale(rules, root)
        for path in outdated:
            console.print(f"stale: {root / path}")
        if outdated:
            console.print("run `seismo grafana generate` and commit the result")
            raise typer.Exit(1)
        console.print(f"{root} is up to date")
        return
    changed = write(rules, root)
    for path in changed:
        console.print(f"wrote {root / path}")
    console.print(f"{len(changed)} file(s) changed" if changed else "nothing to change")


@grafana_app.command("push")
def push(
    url: str = typer.Option(..., "--url", envvar="GRAFANA_URL", help="Grafana base URL."),
    token: str = typer.Option(
        ..., "--token", envvar="GRAFANA_TOKEN", help="Service account token (Editor or Admin)."
    ),
    clickhouse_url: str | None = typer.Option(
        None,
        "--clickhouse-url",
        envvar="SEISMO_GRAFANA_CLICKHOUSE_URL",
        help="ClickHouse as Grafana reaches it: http(s)://user[:password]@host:port/database "
        "(default: the docker-compose server).",
    ),
    alertmanager_url: str | None = typer.Option(
        None, "--alertmanager-url", help="Alertmanager for the contact point."
    ),
    latency_slo_ms: float | None = typer.Option(
        None, "--latency-slo-ms", help="p95 latency objective of the latency rule."
    ),
    notification_policy: bool = typer.Option(
        True,
        "--notification-policy/--no-notification-policy",
        help="Replace the notification policy tree (all alerts to Seismo's contact point).",
    ),
) -> None:
    """Upsert the data source, dashboards, alert rules and contact point (idempotent)."""
    from grafana_client import GrafanaApi
    from grafana_client.client import GrafanaException

    from grafana.alert_rules import AlertSettings
    from grafana.datasource import DEFAULT_CLICKHOUSE_URL, ClickHouseDatasource
    from grafana.notifications import Notifications
    from grafana.push import push as push_all
    from streams.settings import load_settings
    from streams.settings.environment import clickhouse_password

    try:
        datasource, password = ClickHouseDatasource.from_url(
            clickhouse_url or DEFAULT_CLICKHOUSE_URL
        )
        notifications = Notifications(
            **({"alertmanager_url": alertmanager_url} if alertmanager_url else {})
        )
        # The rules look back a number of the worker's windows, so they follow its setting.
        settings = AlertSettings.following(
            load_settings(),
            **({"latency_p95_slo_ms": latency_slo_ms} if latency_slo_ms is not None else {}),
        )
    except ValueError as exc:
        raise ConfigError("grafana push", str(exc)) from None
    api = GrafanaApi.from_url(url, credential=token)
    try:
        results = push_all(
            api,
            datasource=datasource,
            password=password or clickhouse_password(),
            settings=settings,
            notifications=notifications,
            notification_policy=notification_policy,
        )
    except (GrafanaException, OSError) as exc:
        raise SeismoError(f"grafana push to {url} failed: {exc}") from None
    table = Table("kind", "uid", "action", title=f"Grafana at {url}")
    for result in results:
        table.add_row(result.kind, result.uid, result.action)
    console.print(table)
