"""Inline SVG charts for the report: time series and scatter plots, nothing fetched.

Small on purpose: linear or log axes with "nice" ticks, a legend, hover titles. Every text
that reaches the markup goes through :func:`html.escape`, since prompts end up in tooltips.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

# Tableau 10: distinguishable, and readable on white.
CATEGORICAL = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
# Anchors of viridis, for "early → late".
_VIRIDIS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
GREY = "#b8b8b8"
ALERT = "#d62728"
FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif"


def categorical(i: int) -> str:
    """The i-th categorical colour (cycling)."""
    return CATEGORICAL[i % len(CATEGORICAL)]


def sequential(t: float) -> str:
    """A viridis colour for ``t`` in [0, 1] (clipped), interpolated between anchors."""
    t = min(1.0, max(0.0, t)) * (len(_VIRIDIS) - 1)
    i = min(int(t), len(_VIRIDIS) - 2)
    lo, hi = _rgb(_VIRIDIS[i]), _rgb(_VIRIDIS[i + 1])
    f = t - i
    return "#" + "".join(f"{round(a + (b - a) * f):02x}" for a, b in zip(lo, hi, strict=True))


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values from at or below ``lo`` to at or above ``hi``: steps of 1, 2 or 5
    times a power of ten."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    ticks = [math.floor(lo / step) * step]
    while ticks[-1] < hi - step * 1e-9:
        ticks.append(ticks[0] + step * len(ticks))
    return [round(t, 12) for t in ticks]


def format_number(value: float) -> str:
    """Short label: 0.0012 → 1.2e-3, 1250 → 1,250, 0.25 → 0.25."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 0.01:
        return f"{value:.3g}"
    return f"{value:.1e}".replace("e-0", "e-")


_TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
               43200, 86400, 172800, 604800)


def time_ticks(lo: float, hi: float, max_ticks: int = 7) -> list[float]:
    """Epoch seconds of round times (whole minutes, hours, days) within [lo, hi]."""
    span = max(hi - lo, 1.0)
    step = next((s for s in _TIME_STEPS if span / s <= max_ticks), _TIME_STEPS[-1])
    first = math.ceil(lo / step) * step
    return [float(t) for t in range(int(first), int(hi) + 1, step)]


def time_label(epoch: float, span_seconds: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    if span_seconds > 2 * 86400:
        return moment.strftime("%m-%d %H:%M")
    if span_seconds < 300:
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%H:%M")


@dataclass(frozen=True)
class Series:
    """One line of a time chart: x in epoch seconds, y values (nan: gap)."""

    name: str
    xs: Sequence[float]
    ys: Sequence[float]
    colour: str
    dash: str = ""  # SVG stroke-dasharray
    flagged: Sequence[bool] = field(default_factory=tuple)  # points drawn as alarms


@dataclass(frozen=True)
class Frame:
    width: int = 620
    height: int = 250
    left: int = 62
    right: int = 16
    top: int = 30
    bottom: int = 54

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom


def _open(frame: Frame, title: str, extra_height: int = 0) -> list[str]:
    height = frame.height + extra_height
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{frame.width}" height="{height}" '
        f'viewBox="0 0 {frame.width} {height}" style="{FONT};font-size:11px" '
        f'role="img" aria-label="{escape(title)}">',
        f'<rect width="{frame.width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{frame.left}" y="18" font-size="13" font-weight="600" fill="#222">'
        f"{escape(title)}</text>",
    ]


def _empty(frame: Frame, title: str, message: str) -> str:
    parts = _open(frame, title)
    parts.append(
        f'<text x="{frame.width / 2}" y="{frame.height / 2}" text-anchor="middle" '
        f'fill="#888">{escape(message)}</text></svg>'
    )
    return "".join(parts)


def time_chart(
    series: Sequence[Series],
    *,
    title: str,
    y_label: str = "",
    log_y: bool = False,
    guides: Sequence[tuple[float, str]] = (),
    frame: Frame | None = None,
    x_range: tuple[float, float] | None = None,
    empty_message: str = "no data in this period",
) -> str:
    """Lines over time with markers; flagged points get a red ring; ``guides`` are dashed
    horizontal lines (e.g. alpha); ``x_range`` (epoch seconds) lines charts up."""
    frame = frame or Frame()
    points = [
        (x, y) for s in series for x, y in zip(s.xs, s.ys, strict=True)
        if y is not None and math.isfinite(y) and (y > 0 or not log_y)
    ]
    if not points:
        return _empty(frame, title, empty_message)
    x_lo, x_hi = min(p[0] for p in points), max(p[0] for p in points)
    if x_range is not None:
        x_lo, x_hi = min(x_lo, x_range[0]), max(x_hi, x_range[1])
    if x_hi <= x_lo:
        x_lo, x_hi = x_lo - 60, x_hi + 60
    ys = [p[1] for p in points] + [g for g, _ in guides if g > 0 or not log_y]

    def tr(v: float) -> float:
        return math.log10(v) if log_y else v

    y_lo, y_hi = min(map(tr, ys)), max(map(tr, ys))
    if log_y:
        y_lo, y_hi = math.floor(y_lo), max(math.ceil(y_hi), math.floor(y_lo) + 1)
        y_ticks = [float(e) for e in range(int(y_lo), int(y_hi) + 1)]
    else:
        y_lo = min(y_lo, 0.0) if y_lo >= 0 else y_lo
        y_ticks = nice_ticks(y_lo, y_hi)
        y_lo, y_hi = y_ticks[0], y_ticks[-1] if y_ticks[-1] > y_ticks[0] else y_ticks[0] + 1

    def sx(x: float) -> float:
        return frame.left + (x - x_lo) / (x_hi - x_lo) * frame.plot_width

    def sy(y: float) -> float:
        return frame.top + (1 - (tr(y) - y_lo) / (y_hi - y_lo)) * frame.plot_height

    legend, extra = _legend(frame, [(s.name, s.colour, s.dash) for s in series])
    parts = _open(frame, title, extra)
    parts.append(_axes(frame, y_label))
    for tick in y_ticks:
        y = frame.top + (1 - (tick - y_lo) / (y_hi - y_lo)) * frame.plot_height
        label = f"1e{int(tick)}" if log_y and tick < -2 else format_number(10**tick if log_y
                                                                            else tick)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.left + frame.plot_width}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#eee"/><text x="{frame.left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end" fill="#555">{escape(label)}</text>'
        )
    span = x_hi - x_lo
    for x_value in time_ticks(x_lo, x_hi):
        x = sx(x_value)
        parts.append(
            f'<text x="{x:.1f}" y="{frame.top + frame.plot_height + 16}" text-anchor="middle" '
            f'fill="#555">{escape(time_label(x_value, span))}</text>'
        )
    for value, label in guides:
        if log_y and value <= 0:
            continue
        y = sy(value)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.left + frame.plot_width}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="{ALERT}" stroke-dasharray="4 3"/>'
            f'<text x="{frame.left + frame.plot_width - 4}" y="{y - 4:.1f}" text-anchor="end" '
            f'fill="{ALERT}">{escape(label)}</text>'
        )
    for s in series:
        parts.extend(_line(s, sx, sy, log_y))
    parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


def _line(s: Series, sx, sy, log_y: bool) -> list[str]:
    out: list[str] = []
    segment: list[str] = []
    flagged = list(s.flagged) or [False] * len(s.xs)

    def flush() -> None:
        if len(segment) > 1:
            dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
            out.append(f'<polyline points="{" ".join(segment)}" fill="none" '
                       f'stroke="{s.colour}" stroke-width="1.6"{dash}/>')
        segment.clear()

    for x, y, alarm in zip(s.xs, s.ys, flagged, strict=True):
        if y is None or not math.isfinite(y) or (log_y and y <= 0):
            flush()
            continue
        px, py = sx(x), sy(y)
        segment.append(f"{px:.1f},{py:.1f}")
        tip = f"{s.name} {time_label(x, 0)}: {format_number(y)}"
        ring = f' stroke="{ALERT}" stroke-width="2"' if alarm else ""
        radius = 4 if alarm else 2.5
        out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{radius}" fill="{s.colour}"{ring}>'
                   f"<title>{escape(tip)}</title></circle>")
    flush()
    return out


def _axes(frame: Frame, y_label: str) -> str:
    bottom = frame.top + frame.plot_height
    label = ""
    if y_label:
        cy = frame.top + frame.plot_height / 2
        label = (f'<text transform="translate(14 {cy:.1f}) rotate(-90)" text-anchor="middle" '
                 f'fill="#555">{escape(y_label)}</text>')
    return (
        f'<line x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" y2="{bottom}" '
        f'stroke="#999"/><line x1="{frame.left}" x2="{frame.left + frame.plot_width}" '
        f'y1="{bottom}" y2="{bottom}" stroke="#999"/>{label}'
    )


def _legend(frame: Frame, entries: Sequence[tuple[str, str, str]]) -> tuple[str, int]:
    """Legend lines under the plot, wrapped to the width; returns (markup, extra height)."""
    x, y = frame.left, frame.height - 12
    parts = []
    for name, colour, dash in entries:
        width = 30 + 6.2 * len(name)
        if x + width > frame.width - frame.right and x > frame.left:
            x, y = frame.left, y + 16
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{x}" x2="{x + 18}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/><text x="{x + 22}" y="{y}" fill="#333">'
            f"{escape(name)}</text>"
        )
        x += width
    return "".join(parts), y - (frame.height - 12)


def scatter_chart(
    xs: Sequence[float],
    ys: Sequence[float],
    colours: Sequence[str],
    *,
    title: str,
    legend: Sequence[tuple[str, str]] = (),
    tips: Sequence[str] | None = None,
    frame: Frame | None = None,
    empty_message: str = "no embedded sample in this period",
) -> str:
    """Points in a square-ish plot with equal scales on both axes (distances are honest)."""
    frame = frame or Frame(width=560, height=470, left=20, right=20, top=30, bottom=70)
    if len(xs) == 0:
        return _empty(frame, title, empty_message)
    x_lo, x_hi, y_lo, y_hi = min(xs), max(xs), min(ys), max(ys)
    span = max(x_hi - x_lo, y_hi - y_lo, 1e-12) * 1.06
    scale = min(frame.plot_width, frame.plot_height) / span
    cx, cy = (x_lo + x_hi) / 2, (y_lo + y_hi) / 2
    mid_x = frame.left + frame.plot_width / 2
    mid_y = frame.top + frame.plot_height / 2
    parts = _open(frame, title)
    parts.append(f'<rect x="{frame.left}" y="{frame.top}" width="{frame.plot_width}" '
                 f'height="{frame.plot_height}" fill="none" stroke="#ddd"/>')
    for i, (x, y, colour) in enumerate(zip(xs, ys, colours, strict=True)):
        px, py = mid_x + (x - cx) * scale, mid_y - (y - cy) * scale
        tip = f"<title>{escape(tips[i])}</title>" if tips is not None else ""
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}" '
                     f'fill-opacity="0.75">{tip}</circle>')
    parts.append(_swatches(frame, legend))
    parts.append("</svg>")
    return "".join(parts)


def _swatches(frame: Frame, legend: Sequence[tuple[str, str]]) -> str:
    x, y = frame.left, frame.top + frame.plot_height + 20
    parts = []
    for name, colour in legend:
        width = 22 + 6.0 * len(name)
        if x + width > frame.width - frame.right:
            x, y = frame.left, y + 16
        parts.append(f'<circle cx="{x + 5}" cy="{y - 4}" r="5" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="{y}" fill="#333">{escape(name)}</text>')
        x += width
    return "".join(parts)
