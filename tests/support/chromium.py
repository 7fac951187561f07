"""Headless Chromium (Debian's ``chromium``, installed by ``make system-deps``) for the pages
Seismo renders: a screenshot, the rendered DOM, and every URL the page asked for."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tests.streams.report.png import read_png

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")


def chromium() -> str:
    # `make test` installs Debian's chromium (system-deps); a missing one fails, not skips.
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "no Chromium on PATH: run `make system-deps` (apt-get install chromium)"
    return found


def screenshot(url: str, out: Path, width: int, height: int, profile: Path,
               net_log: Path | None = None) -> NDArray[np.uint8]:
    """The page at ``url`` drawn at ``width`` x ``height``; with ``net_log``, Chromium's
    network log is written there too (see :func:`requested_urls`)."""
    extra = [f"--log-net-log={net_log}", "--net-log-capture-mode=Everything"] if net_log else []
    run = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}",
         f"--window-size={width},{height}", *extra, url],
        capture_output=True, text=True, timeout=60,
    )
    assert out.exists(), run.stderr[-2000:]
    return read_png(out)


def dom(url: str, profile: Path) -> str:
    """The DOM after the page loaded (redirects followed, cookies kept)."""
    run = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout, run.stderr[-2000:]
    return run.stdout


def page_requests(net_log: Path, site: str) -> set[str]:
    """Every URL a page of ``site`` (``http://127.0.0.1``) made Chromium request: the requests
    in the network log whose network isolation key is that site. The browser's own
    background requests (update checks, sign-in) carry another key or none, and are no part
    of what the page asked for."""
    text = net_log.read_text(errors="replace").rstrip()
    if not text.endswith("}"):  # a log cut short at the browser's exit
        text = text.rstrip(",") + "]}"
    log = json.loads(text)
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = set()
    for event in log["events"]:
        params = event.get("params") or {}
        key = str(params.get("network_isolation_key", ""))
        if event["type"] == start_job and key.split(" ")[0] == site:
            urls.add(params["url"])
    return urls


def assert_not_blank(pixels: NDArray[np.uint8], min_colours: int = 500) -> NDArray[np.int64]:
    """Text, lines, colours and antialiasing, not an empty canvas; returns the RGB rows."""
    rgb = pixels[..., :3].reshape(-1, 3).astype(int)
    colours = np.unique(rgb @ np.array([1, 256, 65536]))
    assert len(colours) >= min_colours, len(colours)
    assert np.all(rgb >= 240, axis=1).mean() <= 0.95  # a page, not an empty canvas
    return rgb


def pixels_of(rgb: NDArray[np.int64], colour: str) -> int:
    """How many pixels are within 12 levels of ``colour`` (``#rrggbb``)."""
    target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb - target).max(axis=1) <= 12).sum())
