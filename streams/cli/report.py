"""``seismo report``: write the HTML report of one app (mounted by :mod:`streams.cli.main`)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console

from streams.exceptions import ConfigError

PROJECTIONS = ("umap", "discriminant")


def report(
    app: str = typer.Option(..., "--app", help="The app to report on."),
    since: str = typer.Option("24h", help="Start: 24h / 90m / 7d before now, or RFC 3339."),
    until: str | None = typer.Option(None, help="End (default now): a duration or RFC 3339."),
    out: Path = typer.Option(Path("report.html"), help="Where to write the HTML file."),
    field: str = typer.Option("prompt", help="Embedded field to cluster: prompt or completion."),
    clusters: int | None = typer.Option(None, help="Topic clusters (k-means k; default "
                                        "drift_clusters)."),
    projection: str = typer.Option(
        "umap", help="2-D picture of the sample: umap (needs umap-learn; falls back with a note) "
        "or discriminant (linear, instant)."),
) -> None:
    """One self-contained HTML page: drift over time, topics and their shares, a projection of
    the embedded sample, latency, toxicity and PII rates, alerts. With SEISMO_EXPLAIN_URL set,
    each topic also gets a sentence from that OpenAI-compatible endpoint."""
    from streams.report import ClusterExplainer, build_report, parse_time
    from streams.settings import load_settings
    from streams.store.reader import StoreReader

    console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)
    now = datetime.now(UTC)
    start = parse_time(since, now, "since")
    end = parse_time(until, now, "until") if until else now
    if end <= start:
        raise ConfigError("since", f"{since!r} is not before {until or 'now'!r}")
    if clusters is not None and clusters < 1:
        raise ConfigError("clusters", f"must be at least 1, got {clusters}")
    if projection not in PROJECTIONS:
        raise ConfigError("projection", f"must be one of {', '.join(PROJECTIONS)}, "
                          f"got {projection!r}")
    settings = load_settings()
    reader = StoreReader(settings)
    try:
        with console.status(f"reading {app} from ClickHouse and clustering topics …"):
            html, data, topics = build_report(
                reader, app, start, end, field=field, n_clusters=clusters,
                settings=settings, use_umap=projection == "umap",
                explainer=ClusterExplainer.from_settings(settings),
            )
    finally:
        reader.close()
    out.write_text(html, encoding="utf-8")
    windows = len({m["window_start"] for m in data.metrics})
    changed = sum(t.result.drifted for t in topics.tests) if topics else 0
    console.print(f"wrote [bold]{out}[/] — {app}: {windows} windows, {len(data.sample):,} "
                  f"embedded rows, {changed} with a changed topic mix, {len(data.alerts)} "
                  "alert transitions")
    if not data.metrics and not len(data.sample):
        console.print(f"[yellow]note:[/] no data for app {app!r} in this period")
