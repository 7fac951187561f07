"""The worker's live page, on stored windows, verdicts and a firing alert: behind the read
token (header or cookie), every stream key shown, the drifted window marked, the alert
firing; drawn by headless Chromium with no request leaving the worker."""

from __future__ import annotations

import http.client
from datetime import UTC, datetime, timedelta

from streams.report import svg
from streams.store.client import ClickHouseStore
from tests.support.chromium import assert_not_blank, dom, page_requests, pixels_of, screenshot
from tests.support.workers import Deployment

KEYS = (("support-bot", "gpt-4o-mini"), ("code-assistant", "gpt-4o"))
SUMMARY = "support-bot/gpt-4o-mini: prompts drifted from the reference (MMD² 0.0168, p=3e-06)"


def store_rows(deployment: Deployment) -> None:
    """Three closed windows per key; the drifted one is support-bot's second, whose alert fires."""
    store = ClickHouseStore(f"chdb://{deployment.root / 'chdb'}")
    store.migrate()
    now = datetime.now(UTC).replace(microsecond=0)
    starts = [now - timedelta(minutes=30 - 10 * i) for i in range(3)]
    for app, model in KEYS:
        for i, start in enumerate(starts):
            end = start + timedelta(minutes=5)
            when = f"'{start:%Y-%m-%d %H:%M:%S}', '{end:%Y-%m-%d %H:%M:%S}'"
            # computed_at: the retention TTL counts from it (1970 would be gone at once).
            store.command(f"INSERT INTO window_metrics (window_start, window_end, app, model, "
                          f"events, computed_at) VALUES ({when}, '{app}', '{model}', 80, "
                          "now64(3))")
            drifted = app == "support-bot" and i == 1
            store.command(
                "INSERT INTO drift (window_start, window_end, app, model, field, method, "
                f"p_value, drifted, computed_at) VALUES ({when}, '{app}', '{model}', 'prompt', "
                f"'mmd', {3e-6 if drifted else 0.4}, {str(drifted).lower()}, now64(3))")
    start = starts[1]
    store.command(
        "INSERT INTO alerts (transition_id, fingerprint, rule, state, severity, app, model, "
        "value, window_start, window_end, starts_at, transition_at, annotations) VALUES "
        f"('t1', 'f1', 'PromptEmbeddingDrift', 'firing', 'warning', 'support-bot', "
        f"'gpt-4o-mini', 0.0168, '{start:%Y-%m-%d %H:%M:%S}', "
        f"'{start + timedelta(minutes=5):%Y-%m-%d %H:%M:%S}', now64(3), now64(3), "
        f"map('summary', '{SUMMARY}'))")
    store.close()


def get(deployment: Deployment, path: str, headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", deployment.web_port, timeout=60)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response, body


def test_the_live_page_shows_keys_drift_and_alerts_in_chromium(deployment: Deployment,
                                                              tmp_path) -> None:
    store_rows(deployment)
    deployment.start()
    token = deployment.token

    response, body = get(deployment, "/")
    assert response.status == 401 and "?token=" in body
    response, body = get(deployment, "/", {"Authorization": f"Bearer {token}"})
    assert response.status == 200 and response.getheader("Cache-Control") == "no-store"
    for app, model in KEYS:
        assert f'data-app="{app}" data-model="{model}"' in body
    assert body.count('<td class="windows">3</td>') == 2  # windows closed per key
    # Opening it with the token once moves the token into a cookie and out of the address.
    response, _ = get(deployment, f"/?token={token}")
    assert response.status == 303 and response.getheader("Location") == "/"
    cookie = response.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    response, _ = get(deployment, "/", {"Cookie": cookie.split(";")[0]})
    assert response.status == 200
    response, _ = get(deployment, "/?token=not-a-token")
    assert response.status == 401
    # The cookie opens pages only: the query API still wants the header.
    connection = http.client.HTTPConnection("127.0.0.1", deployment.web_port, timeout=60)
    connection.request("POST", "/api/query", body=b'{"sql": "SELECT 1"}',
                       headers={"Content-Type": "application/json",
                                "Cookie": cookie.split(";")[0]})
    assert connection.getresponse().status == 401

    url = f"{deployment.api}/?token={token}"
    rendered = dom(url, tmp_path / "profile")
    for app, model in KEYS:
        assert f'data-app="{app}" data-model="{model}"' in rendered
    assert rendered.count('class="window drift"') == 1
    assert rendered.count('class="window no_drift"') == 5
    assert 'data-rule="PromptEmbeddingDrift"' in rendered and "p=3e-06" in rendered
    assert "/report?app=support-bot" in rendered

    net_log = tmp_path / "net.json"
    pixels = screenshot(url, tmp_path / "live.png", 1200, 700, tmp_path / "profile2", net_log)
    rgb = assert_not_blank(pixels, min_colours=100)
    assert pixels_of(rgb, svg.ALERT) >= 300  # the drifted square and the firing badge
    # What the page asked for: itself (the redirect, then the page) and the favicon.
    urls = page_requests(net_log, "http://127.0.0.1")
    assert f"{deployment.api}/" in urls, urls
    assert all(u.startswith(deployment.api + "/") for u in urls), urls

    # The app's report, from the same renderer as `seismo report`, through the same door.
    response, body = get(deployment, "/report?app=support-bot&since=2h",
                         {"Authorization": f"Bearer {token}"})
    assert response.status == 200 and "<svg" in body and "support-bot" in body
    response, body = get(deployment, "/report?app=support-bot&since=30d",
                         {"Authorization": f"Bearer {token}"})
    assert response.status == 400 and "7 days" in body
