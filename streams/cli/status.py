"""``seismo status``: per app and model over the last minutes, from the store."""

from __future__ import annotations

import json
import time
from typing import Any

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
    watch: float = typer.Option(
        0.0, "--watch", help="Redraw in place every this many seconds (Ctrl-C stops)."),
) -> None:
    """Per app and model over the last minutes: events, errors, latency, tokens, cost, windows
    closed, the latest verdict per field and the alerts firing."""
    if watch > 0 and not as_json:
        watch_status(settings(), minutes, watch)
    else:
        show_status(settings(), minutes, as_json)


def show_status(settings: Settings, minutes: int, as_json: bool = False) -> None:
    """The status table (or its rows as JSON) of the store these settings name."""
    if as_json:
        print(json.dumps(status_rows(settings, minutes), default=str))
    else:
        console.print(status_table(settings, minutes))


def watch_status(settings: Settings, minutes: int, every: float) -> None:
    from rich.live import Live

    with Live(status_table(settings, minutes), console=console, auto_refresh=False) as live:
        try:
            while True:
                time.sleep(every)
                live.update(status_table(settings, minutes), refresh=True)
        except KeyboardInterrupt:
            pass


def status_rows(settings: Settings, minutes: int) -> list[dict[str, Any]]:
    """One dict per stream key: the traffic figures and what the detectors say."""
    from streams.report.monitoring import KeyView, key_views
    from streams.store.reader import StoreReader

    reader = StoreReader(settings)
    try:
        columns, rows = reader.query(STATUS_SQL, {"minutes": minutes})
        views = key_views(reader, minutes)
    finally:
        reader.close()
    out = []
    for row in rows:
        item = dict(zip(columns, row, strict=True))
        view = views.get((item["app"], item["model"])) or KeyView(item["app"], item["model"])
        item.update(windows_closed=view.windows, verdicts={
            name: {"verdict": verdict, "p_value": p} for name, (verdict, p) in view.verdicts.items()
        }, alerts_firing=view.firing)
        out.append(item)
    return out


def status_table(settings: Settings, minutes: int) -> Table:
    from streams.report.monitoring import verdict_line

    table = Table(title=f"Seismo — last {minutes} min")
    for name in ("app", "model", "events", "error rate", "p50 ms", "p95 ms", "tokens", "cost $",
                 "windows", "latest verdicts", "alerts firing"):
        table.add_column(name, justify="left" if name in ("app", "model", "latest verdicts",
                                                          "alerts firing") else "right")
    rows = status_rows(settings, minutes)
    for row in rows:
        table.add_row(
            row["app"],
            row["model"],
            f"{row['events']:,}",
            f"{row['error_rate']:.1%}",
            f"{row['p50_ms']:,.0f}",
            f"{row['p95_ms']:,.0f}",
            f"{int(row['tokens'] or 0):,}",
            f"{float(row['cost_usd'] or 0):.4f}",
            f"{row['windows_closed']:,}",
            verdict_line({name: (v["verdict"], v["p_value"])
                          for name, v in row["verdicts"].items()}),
            "[bold red]" + ", ".join(row["alerts_firing"]) + "[/]" if row["alerts_firing"]
            else "none",
        )
    if not rows:
        table.caption = "no events in this period"
    return table
