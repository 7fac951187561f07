"""`seismo report` on a stored drift incident: the new topic is a cluster, the cluster-share
test names it, and the page is self-contained and renders in a real browser."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from streams.cli.report import report
from streams.exceptions import ConfigError
from streams.report import (
    ClusterExplainer,
    ReportData,
    Topics,
    analyse_topics,
    build_report,
    projection,
    render_report,
    svg,
)
from streams.settings import load_settings
from streams.testing.ports import free_port
from tests.streams.report.chat_server import chat_server
from tests.streams.report.incident import APP, Incident, build_incident
from tests.support.chromium import assert_not_blank, pixels_of, screenshot

GENERATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
NEW_TOPIC_WORDS = {"tax", "taxable", "crypto", "gains", "cost", "basis"}


@pytest.fixture(scope="module")
def incident(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Incident]:
    """The stored incident: seconds, plus ~700 prompt embeddings on a cold pytest cache."""
    cache = getattr(request.config, "cache", None)
    cache_dir = cache.mkdir("seismo-embeddings") if cache is not None else None
    incident = build_incident(tmp_path_factory.mktemp("chdb"), cache_dir)
    yield incident
    incident.store.close()  # one embedded store per process at a time


@pytest.fixture(scope="module")
def built(incident: Incident) -> tuple[str, ReportData, Topics]:
    end = datetime.now(UTC)
    html, data, topics = build_report(incident.store, APP, end - timedelta(hours=24), end,
                                      generated_at=GENERATED_AT)
    assert topics is not None
    return html, data, topics


def _new_topic_cluster(data: ReportData, topics: Topics, incident: Incident) -> int:
    new = np.array([i in incident.new_topic_ids for i in data.sample.event_ids])
    return int(np.bincount(topics.labels[new]).argmax())


def test_the_new_topic_is_a_cluster_of_its_own(built, incident: Incident) -> None:
    _, data, topics = built
    new = np.array([i in incident.new_topic_ids for i in data.sample.event_ids])
    assert new.sum() >= 50  # the sample holds the incident
    cluster = _new_topic_cluster(data, topics, incident)
    assert (topics.labels[new] == cluster).mean() >= 0.9  # the topic is one cluster ...
    assert new[topics.labels == cluster].mean() >= 0.9  # ... and the cluster is the topic
    assert NEW_TOPIC_WORDS & set(topics.clusters[cluster].keywords[:3])
    assert topics.reference_shares[cluster] <= 0.02  # the references predate the incident


def test_the_cluster_share_test_names_the_new_topic_after_the_drift(
    built, incident: Incident
) -> None:
    _, data, topics = built
    cluster = _new_topic_cluster(data, topics, incident)
    after = [t for t in topics.tests if t.window_start >= incident.drift_start]
    before = [t for t in topics.tests if t.window_start < incident.drift_start]
    assert {t.stream.model for t in after} == set(incident.models)
    assert len(after) == 4 * len(incident.models) and before  # every window was tested
    for test in after:
        assert test.result.drifted, test
        assert test.result.params["grew"][0] == cluster, test
    assert not any(t.result.drifted for t in before)


def test_the_page_shows_every_section_without_the_network(built, incident: Incident) -> None:
    html, data, topics = built
    for heading in ("Drift over time", "Topics", "Projection of the embedded sample", "Latency",
                    "Toxicity and PII", "Alerts"):
        assert f"<h2>{heading}</h2>" in html
    assert html.count("<svg") >= 8
    assert "Topic mix changed" in html and "drawn with UMAP" in html
    assert topics.picture.method == "umap"
    cluster = _new_topic_cluster(data, topics, incident)
    keywords = " · ".join(topics.clusters[cluster].keywords[:3])
    assert f"cluster {cluster} ({keywords}) grew from" in html
    assert "embedding_drift" in html and "firing" in html  # the stored alert
    assert {r["method"] for r in data.drift} >= {"mmd", "centroid_cosine"}
    # Every embedding-drift row says how large a shift its window could detect, and the page
    # shows it beside the count of windows too small to tell.
    mmd = [r for r in data.drift if r["method"] == "mmd"]
    assert mmd and all(0 < r["min_detectable_effect"] <= 1 for r in mmd)
    assert {r["verdict"] for r in mmd} <= {"drift", "no_drift", "insufficient_data"}
    assert "windows with insufficient data (MMD; detectable shift " in html
    # Nothing to fetch: no scripts, stylesheets or images from anywhere.
    assert not re.search(r"<(script|link|img|iframe)\b", html, re.IGNORECASE)
    assert not re.search(r"(src|href)\s*=", html, re.IGNORECASE)
    assert not re.search(r"url\(", html)


def test_the_worker_stored_topics_and_named_the_new_topic(built, incident: Incident) -> None:
    """Closing the incident's windows stored a cluster and 2-D coordinates with every
    embedded row, and a cluster-share row per window that names the new topic once it grew."""
    html, _, _ = built
    _, placed = incident.store.query(
        "SELECT model, count(), countIf(cluster BETWEEN 0 AND 7), countIf(isFinite(x) AND "
        "isFinite(y)), uniqExact(cluster) FROM embeddings FINAL GROUP BY model ORDER BY model")
    assert [r[0] for r in placed] == sorted(incident.models)
    for model, rows, clustered, finite, clusters in placed:
        assert rows >= 200 and clustered == rows and finite == rows, model
        assert clusters >= 4, model  # the reference's topics, not one lump
    _, stored = incident.store.query(
        "SELECT model, window_start, drifted, changed_clusters FROM drift FINAL "
        "WHERE method = 'cluster_share' AND field = 'prompt' ORDER BY model, window_start")
    before = [r for r in stored if as_utc(r[1]) < incident.drift_start]
    after = [r for r in stored if as_utc(r[1]) >= incident.drift_start]
    assert before and not any(r[2] for r in before)  # no false alarm before the incident
    assert {r[0] for r in after if r[2]} == set(incident.models)  # every model flagged
    named = [r[3] for r in after if r[2] and r[3].startswith("grew: ")]
    assert len(named) >= 3
    for line in named:
        grown = line.split(" | ")[0].removeprefix("grew: ").split("; ")[0]
        assert NEW_TOPIC_WORDS & set(grown.replace("·", " ").split()), line
        assert html.count(escape(line)) == 1  # the report shows what the worker found


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def test_rows_from_the_worker_api_give_the_same_report(built, incident: Incident) -> None:
    """The worker API takes parameters and sends rows as JSON (times as ISO strings, NaN as
    null)."""
    from streams.service.web_api import _json_safe  # the API's own encoding
    from streams.settings import Settings
    from streams.store.query_guard import ApiQueries, QueryLimits

    queries = ApiQueries(incident.store, QueryLimits.from_settings(Settings()))

    class ThroughAPI:
        def query(self, sql, parameters=None):
            parameters = json.loads(json.dumps(parameters))
            columns, rows = queries.run(sql, parameters)
            payload = json.loads(json.dumps({"columns": columns, "rows": _json_safe(rows)}))
            return payload["columns"], payload["rows"]

    html, data, _ = built
    again, _, _ = build_report(ThroughAPI(), APP, data.start, data.end,
                               generated_at=GENERATED_AT)
    assert again == html


def test_a_period_without_data_still_gives_a_page(incident: Incident) -> None:
    end = datetime.now(UTC)
    html, data, topics = build_report(incident.store, "no-such-app", end - timedelta(hours=1),
                                      end)
    assert topics is None and not data.metrics and not len(data.sample)
    assert "no data in this period" in html and "No alert transitions" in html


def test_seismo_report_writes_the_file(incident: Incident, tmp_path: Path) -> None:
    cli = typer.Typer()
    cli.command()(report)
    # No worker listens on this port, so the reader opens the store directly.
    env = {"SEISMO_CLICKHOUSE_URL": incident.url, "SEISMO_WEB_PORT": str(free_port())}
    out = tmp_path / "report.html"
    # The linear picture: UMAP is drawn (and its JIT paid) once, by the module's report.
    result = CliRunner().invoke(cli, ["--app", APP, "--since", "24h", "--out", str(out),
                                      "--projection", "discriminant"], env=env)
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in " ".join(result.output.split())
    page = out.read_text()
    assert "Topic mix changed" in page and APP in page
    assert "UMAP is not used: it was switched off" in page

    bad = CliRunner().invoke(cli, ["--app", APP, "--since", "yesterday"], env=env)
    assert isinstance(bad.exception, ConfigError) and bad.exception.setting == "since"
    bad = CliRunner().invoke(cli, ["--app", APP, "--projection", "tsne"], env=env)
    assert isinstance(bad.exception, ConfigError) and bad.exception.setting == "projection"


def test_the_report_renders_in_headless_chromium(built, tmp_path: Path) -> None:
    html, _, _ = built
    page, shot = tmp_path / "report.html", tmp_path / "report.png"
    page.write_text(html, encoding="utf-8")
    pixels = screenshot(page.as_uri(), shot, 1400, 2400, tmp_path / "profile")
    assert pixels.shape[:2] == (2400, 1400)
    rgb = assert_not_blank(pixels)
    # The first two streams' line colours (the charts drew) and the yellow "topic mix
    # changed" box (the finding made it to the top of the page).
    assert pixels_of(rgb, svg.categorical(0)) >= 300 and pixels_of(rgb, svg.categorical(1)) >= 300
    assert pixels_of(rgb, "#fff8c5") >= 20_000


def test_each_cluster_is_explained_by_the_configured_endpoint(
    built, incident: Incident
) -> None:
    html, data, topics = built
    assert topics.explanations == {} and 'class="said"' not in html  # off by default
    settings = load_settings(env={}, explain_url="http://placeholder", explain_model="m1")
    with chat_server() as server:
        settings = settings.with_overrides(explain_url=server.url)
        explainer = ClusterExplainer.from_settings(
            settings, env={"SEISMO_EXPLAIN_API_KEY": "sk-test-secret"})
        assert explainer is not None and "sk-test" not in repr(explainer)
        explanations = explainer.explain(topics.clusters)
    asked = [c for c in topics.clusters if c.size]
    assert len(server.requests) == len(asked)  # once per cluster
    assert {r["path"] for r in server.requests} == {"/v1/chat/completions"}
    assert all(h["Authorization"] == "Bearer sk-test-secret" for h in server.headers)
    assert all(r["model"] == "m1" for r in server.requests)
    cluster = _new_topic_cluster(data, topics, incident)
    new_topic = topics.clusters[cluster]
    question = server.requests[asked.index(new_topic)]["messages"][-1]["content"]
    assert all(k in question for k in new_topic.keywords) and new_topic.examples[0][:50] in question
    # The first sentence of each answer, under the cluster's keywords.
    sentence = f"Prompts about {', '.join(new_topic.keywords)}."
    assert explanations[cluster] == sentence
    page = render_report(data, replace(topics, explanations=explanations), alpha=0.01,
                         generated_at=GENERATED_AT)
    assert f'<p class="said">{escape(sentence)}</p>' in page
    assert "A second sentence" not in page


def test_a_failing_endpoint_leaves_the_report_without_explanations(
    built, caplog: pytest.LogCaptureFixture
) -> None:
    _, _, topics = built
    with chat_server(status=503) as server:
        explainer = ClusterExplainer(server.url, "m1", api_key="sk-test-secret", timeout=5)
        with caplog.at_level(logging.WARNING, logger="streams.report.explain"):
            assert explainer.explain(topics.clusters) == {}
    assert len(server.requests) == 1  # a dead endpoint is asked once, not per cluster
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "HTTP 503" in lines[0] and "sk-test" not in lines[0]


def test_explain_settings_are_validated() -> None:
    assert load_settings(env={}).explain_url == ""  # off by default
    for bad in ("ftp://example.com/v1", "localhost:8000"):
        with pytest.raises(ConfigError) as error:
            load_settings(env={}, explain_url=bad)
        assert error.value.setting == "explain_url"
    with pytest.raises(ConfigError) as error:
        load_settings(env={}, explain_url="http://127.0.0.1:9/v1", explain_model=" ")
    assert error.value.setting == "explain_model"


def test_without_umap_the_report_draws_the_discriminant_and_says_why(
    built, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, data, _ = built
    monkeypatch.setattr(projection, "umap_available", lambda: False)
    topics = analyse_topics(data.sample)
    assert topics is not None and topics.picture.method == "discriminant"
    page = render_report(data, topics, alpha=0.01, generated_at=GENERATED_AT)
    assert "UMAP is not used: umap-learn is not installed" in page
