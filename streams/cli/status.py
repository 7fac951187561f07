"""``seismo status``: per app and model over the last minutes, from the store."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from streams.cli.common import console, settings
from streams.settings import Settings

STATUS_SQL = """
SELECT app, model, count() AS events, countIf(status = 'error') / count() AS error_rate,
       quantile(0.5)(latency_ms) AS p50_ms, quantile(0.95)(latency_ms) AS p95_ms,
       sum(total_tokens) AS tokens, sum(cost_usd) AS cost_usd
FROM events FINAL
WHERE timestamp >= now64(3) - toIntervalMinute({minutes:UInt32})
GROUP BY app, model
ORDER BY app, model
"""


def status(
    minutes: int = typer.Option(60, help="Look back this many minutes."),
    as_json: bool = typer.Option(False, "--json", help="Rows as JSON, for scripts."),
) -> None:
    """Per app and model over the last minutes: events, errors, latency, tokens, cost."""
    show_status(settings(), minutes, as_json)


def show_status(settings: Settings, minutes: int, as_json: bool = False) -> None:
    """The status table (or its rows as JSON) of the store these settings name."""
    from streams.store.reader import StoreReader

    reader = StoreReader(settings)
    try:
        columns, rows = reader.query(STATUS_SQL, {"minutes": minutes})
    finally:
        reader.close()
    if as_json:
        print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str))
        return
    table = Table(title=f"Seismo — last {minutes} min")
    for name in ("app", "model", "events", "error rate", "p50 ms", "p95 ms", "tokens", "cost $"):
        table.add_column(name, justify="left" if name in ("app", "model") else "right")
    for app_name, model, count, error_rate, p50, p95, tokens, cost in rows:
        table.add_row(
            app_name,
            model,
            f"{count:,}",
            f"{error_rate:.1%}",
            f"{p50:,.0f}",
            f"{p95:,.0f}",
            f"{int(tokens or 0):,}",
            f"{float(cost or 0):.4f}",
        )
    if not rows:
        table.caption = "no events in this period"
    console.print(table)
