"""The worker's live page (``GET /``): per stream key its windows, the last windows' verdicts
as a strip of squares, the alerts firing now; and the pipeline's lag and dead letters.

Server-rendered HTML with inline CSS and SVG, like the report: no script, nothing fetched at
view time; a meta refresh redraws it. Every stored text goes through :func:`html.escape`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import urlencode

from streams.report import svg
from streams.report.monitoring import KeyView, WindowVerdict

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1f2328}
h1{font-size:22px;margin:0 0 4px}
.meta{color:#57606a;margin-bottom:16px}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #d0d7de;padding:8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.firing{color:#fff;background:#d62728;border-radius:4px;padding:2px 6px;display:inline-block;
margin:2px 0}
.ok{color:#1a7f37}
.pipeline{display:flex;gap:24px;margin:12px 0 20px}
.pipeline div{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:8px 12px}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;
vertical-align:middle}
"""
COLOURS = {"drift": svg.ALERT, "insufficient_data": svg.GREY, "no_drift": "#2da44e"}
SQUARE = 18


@dataclass(frozen=True)
class Pipeline:
    """What the worker knows of itself: records behind, dead letters by reason."""

    consumer_lag: float
    dead_letters: dict[str, float]
    window_seconds: float


def render_live(views: dict[tuple[str, str], KeyView], pipeline: Pipeline, now: datetime,
                refresh_seconds: int = 5, report_since: str = "6h") -> str:
    rows = "".join(_key_row(view, report_since) for _, view in sorted(views.items()))
    if not rows:
        rows = '<tr><td colspan="4">no closed window yet</td></tr>'
    firing = sum(len(v.firing) for v in views.values())
    dead = sum(pipeline.dead_letters.values())
    reasons = ", ".join(f"{escape(k)} {v:g}" for k, v in sorted(pipeline.dead_letters.items()))
    legend = "".join(f'<span style="background:{c}"></span>{escape(n)}'
                     for n, c in (("drifted", COLOURS["drift"]), ("too few events",
                                  COLOURS["insufficient_data"]), ("no drift",
                                  COLOURS["no_drift"])))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{refresh_seconds}">'
        f"<title>Seismo — live</title><style>{CSS}</style></head><body>"
        "<h1>Seismo — live</h1>"
        f'<div class="meta">{now:%Y-%m-%d %H:%M:%S} UTC · {len(views)} stream keys · '
        f"{pipeline.window_seconds:g}-second windows · redrawn every {refresh_seconds} s</div>"
        '<div class="pipeline">'
        f"<div><b>{firing}</b> alerts firing</div>"
        f"<div>consumer lag <b>{pipeline.consumer_lag:,.0f}</b> records</div>"
        f"<div>dead letters <b>{dead:,.0f}</b>{' (' + reasons + ')' if reasons else ''}</div>"
        "</div>"
        f'<div class="legend">last windows, oldest to newest:{legend}</div>'
        "<table><tr><th>stream key</th><th>windows closed</th><th>last windows</th>"
        f"<th>alerts firing</th></tr>{rows}</table></body></html>"
    )


def _key_row(view: KeyView, since: str) -> str:
    link = "/report?" + urlencode({"app": view.app, "since": since})
    alerts = "".join(f'<div class="firing" data-rule="{escape(rule)}">{escape(rule)}: '
                     f"{escape(summary)}</div>" for rule, summary in sorted(view.firing.items()))
    return (
        f'<tr class="key" data-app="{escape(view.app)}" data-model="{escape(view.model)}">'
        f'<td><a href="{escape(link)}">{escape(view.app)}</a> / {escape(view.model)}</td>'
        f'<td class="windows">{view.windows:,}</td><td>{_strip(view.history)}<div>'
        f"{escape(view.verdict_line())}</div></td>"
        f"<td>{alerts or '<span class=ok>none</span>'}</td></tr>"
    )


def _strip(history: list[WindowVerdict]) -> str:
    if not history:
        return ""
    squares = []
    for i, window in enumerate(history):
        found = window.drifted or window.insufficient
        detail = "; ".join(found) if found else f"{window.tests} tests, no drift"
        title = f"{window.start:%H:%M:%S} {window.verdict.replace('_', ' ')}: {detail}"
        squares.append(
            f'<rect class="window {window.verdict}" x="{i * (SQUARE + 3)}" y="0" '
            f'width="{SQUARE}" height="{SQUARE}" rx="3" fill="{COLOURS[window.verdict]}">'
            f"<title>{escape(title)}</title></rect>")
    width = len(history) * (SQUARE + 3)
    return (f'<svg width="{width}" height="{SQUARE}" viewBox="0 0 {width} {SQUARE}" '
            f'role="img">{"".join(squares)}</svg>')
