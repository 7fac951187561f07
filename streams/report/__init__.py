"""``seismo report``: one self-contained HTML page on an app's drift, topics and signals.

>>> from streams.report import build_report  # doctest: +SKIP
>>> html = build_report(store, "support-bot", start, end)  # doctest: +SKIP

Pieces: :mod:`~streams.report.data` reads ClickHouse, :mod:`~streams.report.analysis` finds
topics and tests their shares, :mod:`~streams.report.render` writes HTML with the SVG charts
of :mod:`~streams.report.svg`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from streams.report.analysis import Topics, WindowTest, analyse_topics
from streams.report.data import Reader, ReportData, load_report_data, parse_time
from streams.report.explain import ClusterExplainer
from streams.report.render import render_report
from streams.settings import Settings

__all__ = [
    "ClusterExplainer",
    "Reader",
    "ReportData",
    "Topics",
    "WindowTest",
    "analyse_topics",
    "build_report",
    "load_report_data",
    "parse_time",
    "render_report",
]


def build_report(
    reader: Reader,
    app: str,
    start: datetime,
    end: datetime,
    *,
    settings: Settings | None = None,
    field: str = "prompt",
    n_clusters: int | None = None,
    generated_at: datetime | None = None,
    use_umap: bool = True,
    explainer: ClusterExplainer | None = None,
) -> tuple[str, ReportData, Topics | None]:
    """Read, analyse and render: (html, the data shown, the topics found).

    ``settings`` are the worker's (its defaults when None): the sample is read and the topics
    are tested as the worker does, at ``drift_alpha`` with ``drift_clusters`` clusters
    (``n_clusters`` overrides them). ``use_umap=False`` draws the linear discriminant instead
    of UMAP (faster on big samples); ``explainer`` adds a sentence per cluster from an
    OpenAI-compatible endpoint.
    """
    settings = settings or Settings()
    data = load_report_data(reader, app, start, end, settings, field=field)
    topics = analyse_topics(data.sample, settings.drift, n_clusters=n_clusters,
                            use_umap=use_umap, explainer=explainer)
    html = render_report(data, topics, alpha=settings.drift_alpha,
                         generated_at=generated_at or datetime.now(UTC))
    return html, data, topics
