"""The report as one self-contained HTML page: inline CSS and SVG, no script, no network."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

import numpy as np

from schemas.tables import INSUFFICIENT_DATA_VERDICT
from streams.report import svg
from streams.report.analysis import Topics, WindowTest
from streams.report.data import ReportData, Stream

MAX_POINTS = 3000  # drawn per scatter plot; more only blurs the picture and bloats the file
EXAMPLE_CHARS = 220
TIP_CHARS = 120

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f5f6f8;
color:#1f2328}
main{max-width:1320px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 10px;border-bottom:1px solid
#d0d7de;padding-bottom:6px}
.meta{color:#57606a;margin:0 0 18px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px 16px;
min-width:150px}
.card b{display:block;font-size:22px}.card span{color:#57606a;font-size:12px}
.card.alarm b{color:#cf222e}
.finding{background:#fff8c5;border:1px solid #d4a72c;border-radius:8px;padding:10px 14px;
margin:16px 0}
.finding.quiet{background:#dafbe1;border-color:#4ac26b}
.charts{display:flex;flex-wrap:wrap;gap:14px}
.charts svg{background:#fff;border:1px solid #d0d7de;border-radius:6px}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
th,td{border:1px solid #d0d7de;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5}
td.num{text-align:right;white-space:nowrap}
.swatch{display:inline-block;width:12px;height:12px;border-radius:6px;vertical-align:middle}
.kw{font-weight:600}.ex{color:#444;font-size:12px;margin:2px 0}
.said{font-style:italic;color:#444;margin:4px 0 0}
.badge{background:#cf222e;color:#fff;border-radius:10px;padding:1px 7px;font-size:11px}
.note{color:#57606a;font-size:12px;margin:6px 0}
"""


def render_report(data: ReportData, topics: Topics | None, *, alpha: float,
                  generated_at: datetime | None = None) -> str:
    """The whole page."""
    generated_at = generated_at or datetime.now(UTC)
    streams = sorted({Stream(m["model"], m["prompt_version"]) for m in data.metrics}
                     | set(data.sample.streams))
    colours = {stream: svg.categorical(i) for i, stream in enumerate(streams)}
    body = [
        f"<h1>Seismo report — {escape(data.app)}</h1>",
        f'<p class="meta">{_when(data.start)} → {_when(data.end)} UTC · drift field '
        f"<b>{escape(data.field)}</b> · streams: {escape(', '.join(map(str, streams)) or '—')}"
        f" · generated {_when(generated_at)} UTC</p>",
        _cards(data, topics),
        _finding(topics, alpha),
        "<h2>Drift over time</h2>",
        _drift_charts(data, topics, colours, alpha),
        "<h2>Topics</h2>",
        _topics_section(data, topics),
        "<h2>Projection of the embedded sample</h2>",
        _projection(data, topics),
        "<h2>Latency</h2>",
        _latency(data, colours),
        "<h2>Toxicity and PII</h2>",
        _rates(data, colours),
        "<h2>Alerts</h2>",
        _alerts(data),
        '<p class="note">Drift rows, window metrics and alerts as the workers stored them; '
        "topics, their shares and the projection computed for this report from the stored "
        f"embedded sample (at most {data.per_window} rows per window and stream).</p>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Seismo report — {escape(data.app)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _x_range(data: ReportData) -> tuple[float, float] | None:
    """First and last window start of the period, so all time charts share one axis."""
    starts = [m["window_start"] for m in data.metrics] + data.sample.window_starts
    if not starts:
        return None
    return _epoch(min(starts)), _epoch(max(starts))


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _cards(data: ReportData, topics: Topics | None) -> str:
    windows = {m["window_start"] for m in data.metrics}
    events = int(sum(m["events"] for m in data.metrics if math.isfinite(m["events"])))
    mmd = [r for r in data.drift if r["method"] == "mmd" and r["field"] == data.field]
    tests = topics.tests if topics else []
    firing = [a for a in data.alerts if a["state"] == "firing"]
    cards = [
        (f"{len(windows):,}", "windows", False),
        (f"{events:,}", "events", False),
        (f"{sum(r['drifted'] for r in mmd)} / {len(mmd)}", "windows drifted (MMD)",
         any(r["drifted"] for r in mmd)),
        (f"{sum(r['verdict'] == INSUFFICIENT_DATA_VERDICT for r in mmd)} / {len(mmd)}",
         f"windows with insufficient data (MMD; {_mde_range(mmd)})",
         False),
        (f"{sum(t.result.drifted for t in tests)} / {len(tests)}",
         "windows with a changed topic mix", any(t.result.drifted for t in tests)),
        (f"{len(firing)}", "alerts fired", bool(firing)),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card{" alarm" if alarm else ""}"><b>{escape(value)}</b>'
        f"<span>{escape(label)}</span></div>"
        for value, label, alarm in cards
    ) + "</div>"


def _mde_range(rows: list[dict]) -> str:
    """The windows' minimum detectable effects (share of a new topic, power 0.8), as a range."""
    mdes = [r["min_detectable_effect"] for r in rows if math.isfinite(r["min_detectable_effect"])]
    if not mdes:
        return "no power calibration"
    low, high = min(mdes), max(mdes)
    span = f"{low:.0%}" if round(low, 2) == round(high, 2) else f"{low:.0%}–{high:.0%}"
    return f"detectable shift {span}"


def cluster_name(topics: Topics, cluster: int, words: int = 3) -> str:
    """``cluster 3 (tax · crypto · gains)``."""
    keywords = topics.clusters[cluster].keywords[:words]
    return f"cluster {cluster}" + (f" ({' · '.join(keywords)})" if keywords else "")


def describe_change(topics: Topics, test: WindowTest) -> str:
    """One sentence: which clusters grew and shrank in a window, by how much."""
    params = test.result.params
    clusters = params["clusters"]
    parts = []
    for j in params["grew"][:2]:
        c = clusters[j]
        parts.append(f"{cluster_name(topics, j)} grew from {c['reference_share']:.1%} of the "
                     f"reference to {c['window_share']:.1%} of the window "
                     f"(adjusted residual {c['residual']:+.1f})")
    for j in params["shrank"][:2]:
        c = clusters[j]
        parts.append(f"{cluster_name(topics, j)} shrank from {c['reference_share']:.1%} to "
                     f"{c['window_share']:.1%} ({c['residual']:+.1f})")
    return "; ".join(parts) or "no single cluster stands out"


def _finding(topics: Topics | None, alpha: float) -> str:
    if topics is None:
        return ('<div class="finding quiet">Too few embedded rows in this period to cluster '
                "topics.</div>")
    drifted = [t for t in topics.tests if t.result.drifted]
    if not drifted:
        return (f'<div class="finding quiet">Topic mix: no window differs from its reference '
                f"(cluster-share test, α = {alpha:g}, {len(topics.tests)} windows tested)."
                "</div>")
    lines = []
    for stream in sorted({t.stream for t in drifted}):
        mine = [t for t in drifted if t.stream == stream]
        first = mine[0]
        lines.append(
            f"<li><b>{escape(str(stream))}</b>: from {_when(first.window_start)} "
            f"({len(mine)} window{'s' if len(mine) > 1 else ''}, first p = "
            f"{first.result.p_value:.2g}): {escape(describe_change(topics, first))}.</li>"
        )
    return (f'<div class="finding"><b>Topic mix changed</b> (cluster-share test, α = '
            f"{alpha:g}, {len(drifted)} of {len(topics.tests)} windows):<ul>{''.join(lines)}"
            "</ul></div>")


def _drift_charts(
    data: ReportData, topics: Topics | None, colours: dict[Stream, str], alpha: float
) -> str:
    fields = sorted({r["field"] for r in data.drift if r["method"] == "mmd"})
    statistic, p_values = [], []
    for stream, colour in colours.items():
        for field in fields:
            rows = [r for r in data.drift if r["method"] == "mmd" and r["field"] == field
                    and Stream(r["model"], r["prompt_version"]) == stream]
            if not rows:
                continue
            dash = "" if field == data.field else "5 3"
            xs = [_epoch(r["window_start"]) for r in rows]
            flagged = [r["drifted"] for r in rows]
            statistic.append(svg.Series(f"{stream} {field}", xs, [r["statistic"] for r in rows],
                                        colour, dash, flagged))
            p_values.append(svg.Series(f"{stream} MMD {field}", xs,
                                       [r["p_value"] for r in rows], colour, dash, flagged))
    for stream, colour in colours.items():
        mine = [t for t in (topics.tests if topics else []) if t.stream == stream]
        if mine:
            p_values.append(svg.Series(
                f"{stream} cluster share", [_epoch(t.window_start) for t in mine],
                [t.result.p_value for t in mine], colour, "1 3",
                [t.result.drifted for t in mine]))
    charts = [
        svg.time_chart(statistic, title="MMD² statistic per window (ringed: drifted)",
                       y_label="unbiased MMD²", x_range=_x_range(data)),
        svg.time_chart(p_values, title="p-values per window (dotted: cluster share)",
                       y_label="p-value", log_y=True, guides=[(alpha, f"α = {alpha:g}")],
                       x_range=_x_range(data)),
    ]
    if topics is not None:
        charts.append(_share_chart(data, topics))
    return '<div class="charts">' + "".join(charts) + "</div>"


def _share_chart(data: ReportData, topics: Topics) -> str:
    """Each cluster's share of every sampled window over time (all streams together)."""
    k = len(topics.clusters)
    by_start: dict[datetime, list[int]] = {}
    for i, start in enumerate(data.sample.window_starts):
        by_start.setdefault(start, []).append(i)
    starts = sorted(by_start)
    shares = np.array([np.bincount(topics.labels[by_start[s]], minlength=k) / len(by_start[s])
                       for s in starts]) if starts else np.zeros((0, k))
    series = [svg.Series(f"{j}", [_epoch(s) for s in starts], list(shares[:, j]),
                         svg.categorical(j)) for j in range(k)]
    return svg.time_chart(series, title="Share of each cluster per window",
                          y_label="share of window", x_range=_x_range(data))


def _topics_section(data: ReportData, topics: Topics | None) -> str:
    if topics is None:
        return '<p class="note">Too few embedded rows to cluster.</p>'
    shares = topics.window_shares(data.sample)
    grew = {j for t in topics.tests if t.result.drifted for j in t.result.params["grew"]}
    rows = []
    for summary in topics.clusters:
        j = summary.cluster
        peak, peak_at = 0.0, None
        for (stream, start), share in shares.items():
            if share[j] > peak:
                peak, peak_at = float(share[j]), f"{_when(start)} {stream}"
        examples = "".join(f'<p class="ex">“{escape(_clip(e, EXAMPLE_CHARS))}”</p>'
                           for e in summary.examples)
        explanation = topics.explanations.get(j)
        said = f'<p class="said">{escape(explanation)}</p>' if explanation else ""
        badge = ' <span class="badge">grew</span>' if j in grew else ""
        rows.append(
            f'<tr><td><span class="swatch" style="background:{svg.categorical(j)}"></span> '
            f"{j}{badge}</td><td class=\"num\">{summary.size}</td>"
            f'<td class="num">{topics.reference_shares[j]:.1%}</td>'
            f'<td class="num">{peak:.1%}<br><span class="note">{escape(peak_at or "—")}</span>'
            f'</td><td><span class="kw">{escape(" · ".join(summary.keywords) or "—")}</span>'
            f"{said}</td><td>{examples}</td></tr>"
        )
    return (
        f'<p class="note">{len(topics.clusters)} k-means clusters of all {len(data.sample):,} '
        "sampled rows (references and windows together); keywords by class-based TF-IDF, "
        "examples are the texts closest to the cluster centre"
        + ("; the sentence under the keywords is the configured language model's reading of "
           "them" if topics.explanations else "")
        + ". Cluster-share test: Pearson chi-square of each window's cluster counts against "
        "its reference's (exact permutation p-value when an expected count is under 5).</p>"
        "<table><tr><th>cluster</th><th>rows</th><th>reference share</th>"
        "<th>peak window share</th><th>keywords</th><th>examples</th></tr>"
        + "".join(rows) + "</table>" + _test_table(topics) + _worker_findings(data)
    )


def _worker_findings(data: ReportData) -> str:
    """The worker's own cluster-share rows that decided 'changed' (its per-window clusters)."""
    rows = [r for r in data.drift if r["method"] == "cluster_share" and r["drifted"]]
    if not rows:
        return ""
    body = "".join(
        f"<tr><td>{_when(r['window_start'])}</td>"
        f"<td>{escape(str(Stream(r['model'], r['prompt_version'])))}</td>"
        f"<td>{escape(r['field'])}</td><td class=\"num\">{r['p_value']:.2g}</td>"
        f"<td>{escape(r.get('changed_clusters') or 'no single cluster stands out')}</td></tr>"
        for r in rows
    )
    return ('<h3>What the worker found when each window closed</h3><p class="note">The '
            "stored cluster-share rows (table <code>drift</code>): each window clustered with "
            "its reference, changed clusters named by their keywords and shares.</p><table>"
            "<tr><th>window</th><th>stream</th><th>field</th><th>p</th><th>what changed</th>"
            "</tr>" + body + "</table>")


def _test_table(topics: Topics) -> str:
    drifted = [t for t in topics.tests if t.result.drifted]
    if not drifted:
        return ""
    rows = "".join(
        f"<tr><td>{_when(t.window_start)}</td><td>{escape(str(t.stream))}</td>"
        f'<td class="num">{t.result.statistic:.1f}</td><td class="num">{t.result.p_value:.2g}'
        f"</td><td>{escape(describe_change(topics, t))}</td></tr>"
        for t in drifted
    )
    return ("<h3>Windows whose topic mix changed</h3><table><tr><th>window</th><th>stream</th>"
            "<th>χ²</th><th>p</th><th>what changed</th></tr>" + rows + "</table>")


def _projection(data: ReportData, topics: Topics | None) -> str:
    if topics is None:
        return '<p class="note">Too few embedded rows to draw.</p>'
    note = f'<p class="note">{escape(topics.picture.note)}'
    sample = data.sample
    keep = np.arange(len(sample))
    if len(keep) > MAX_POINTS:  # evenly spaced rows keep every window's share of the picture
        keep = np.linspace(0, len(sample) - 1, MAX_POINTS).round().astype(int)
    coordinates = topics.picture.coordinates
    xs, ys = coordinates[keep, 0].tolist(), coordinates[keep, 1].tolist()
    window_starts = sorted({sample.window_starts[i] for i in keep if not sample.is_reference[i]})
    position = {s: i / max(len(window_starts) - 1, 1) for i, s in enumerate(window_starts)}
    by_window = [svg.GREY if sample.is_reference[i] else svg.sequential(
        position[sample.window_starts[i]]) for i in keep]
    legend = [("reference", svg.GREY)]
    for s in _spread(window_starts, 4):
        legend.append((_when(s)[11:], svg.sequential(position[s])))
    tips = [f"{cluster_name(topics, int(topics.labels[i]), 2)} · "
            f"{_when(sample.window_starts[i])}: {_clip(topics.texts[i], TIP_CHARS)}"
            for i in keep]
    by_cluster = [svg.categorical(int(topics.labels[i])) for i in keep]
    cluster_legend = [(cluster_name(topics, c.cluster, 2), svg.categorical(c.cluster))
                      for c in topics.clusters]
    return (
        note + "</p>"
        '<div class="charts">'
        + svg.scatter_chart(xs, ys, by_window, title="Coloured by window (grey: reference)",
                            legend=legend)
        + svg.scatter_chart(xs, ys, by_cluster, title="Coloured by cluster", legend=cluster_legend,
                            tips=tips)
        + "</div>"
    )


def _spread(items: Sequence[Any], count: int) -> list[Any]:
    if len(items) <= count:
        return list(items)
    return [items[round(i * (len(items) - 1) / (count - 1))] for i in range(count)]


def _latency(data: ReportData, colours: dict[Stream, str]) -> str:
    series = []
    for stream, colour in colours.items():
        rows = [m for m in data.metrics if Stream(m["model"], m["prompt_version"]) == stream]
        if not rows:
            continue
        xs = [_epoch(m["window_start"]) for m in rows]
        for quantile, dash in (("p50", "2 3"), ("p95", ""), ("p99", "6 3")):
            series.append(svg.Series(f"{stream} {quantile}", xs,
                                     [m[f"latency_{quantile}"] for m in rows], colour, dash))
    frame = svg.Frame(width=1000, height=270)
    return '<div class="charts">' + svg.time_chart(
        series, title="Latency quantiles per window (p50 dotted, p95 solid, p99 dashed)",
        y_label="ms", frame=frame, x_range=_x_range(data)) + "</div>"


def _rates(data: ReportData, colours: dict[Stream, str]) -> str:
    charts = []
    for column, title in (("toxicity_rate", "Toxic events per window"),
                          ("pii_rate", "Events with PII per window")):
        series = []
        for stream, colour in colours.items():
            rows = [m for m in data.metrics if Stream(m["model"], m["prompt_version"]) == stream]
            if rows:
                series.append(svg.Series(str(stream), [_epoch(m["window_start"]) for m in rows],
                                         [m[column] for m in rows], colour))
        charts.append(svg.time_chart(series, title=title, y_label="share of events",
                                     x_range=_x_range(data)))
    return '<div class="charts">' + "".join(charts) + "</div>"


def _alerts(data: ReportData) -> str:
    if not data.alerts:
        return '<p class="note">No alert transitions in this period.</p>'
    rows = "".join(
        f"<tr><td>{_when(a['transition_at'])}</td><td>{escape(a['rule'])}</td>"
        f"<td>{escape(a['state'])}</td><td>{escape(a['severity'])}</td>"
        f"<td>{escape(a['model'])}</td><td class=\"num\">{svg.format_number(a['value'])}</td>"
        f"<td>{_when(a['window_start'])}</td>"
        f"<td>{escape(a['annotations'].get('summary', ''))}</td></tr>"
        for a in data.alerts
    )
    return ("<table><tr><th>at</th><th>rule</th><th>state</th><th>severity</th><th>model</th>"
            "<th>value</th><th>window</th><th>summary</th></tr>" + rows + "</table>")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
