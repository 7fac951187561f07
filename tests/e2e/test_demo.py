"""`seismo demo`, shortened, against the real broker and a real Alertmanager: the two incidents
page and resolve, the control key pages nobody, and nothing is left running."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def processes_mentioning(text: str) -> list[str]:
    """Command lines of this user's processes whose command line or environment names ``text``
    (the demo's data directory: the worker's SEISMO_DATA_DIR, Alertmanager's storage path)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:  # gone, or another user's
            continue
        if text.encode() in cmdline or text.encode() in environ:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def test_the_demo_pages_both_incidents_and_resolves_them(kafka_bootstrap: str, tmp_path) -> None:
    env = {**os.environ, "SEISMO_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "SEISMO_DATA_DIR": str(tmp_path), "COLUMNS": "160"}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    run = subprocess.run(
        [sys.executable, "-m", "streams", "demo", "--stable", "50", "--incident", "40",
         "--recovery", "80", "--timeout", "360"],
        capture_output=True, text=True, timeout=480, env=env,
    )
    out = run.stdout
    assert run.returncode == 0, out[-4000:] + run.stderr[-4000:]
    pages = re.findall(r"PAGE  (firing|resolved)\s+(\w+) — ([\w.-]+)/([\w.-]+)", out)
    assert {(s, r, a, m) for s, r, a, m in pages} >= {
        ("firing", "PromptEmbeddingDrift", "support-bot", "gpt-4o-mini"),
        ("resolved", "PromptEmbeddingDrift", "support-bot", "gpt-4o-mini"),
        ("firing", "LatencyDistributionShift", "code-assistant", "claude-3-5-sonnet"),
        ("resolved", "LatencyDistributionShift", "code-assistant", "claude-3-5-sonnet"),
    }, out[-4000:]
    # The control key and the other incident's signals page nobody.
    assert all(r == "PromptEmbeddingDrift" and a == "support-bot"
               or (r, a, m) == ("LatencyDistributionShift", "code-assistant", "claude-3-5-sonnet")
               for _, r, a, m in pages), pages
    report = Path(re.search(r"report: (\S+)", out)[1])
    assert report.is_file() and "<svg" in report.read_text(encoding="utf-8")
    assert re.search(r"live page: http://127\.0\.0\.1:\d+/\?token=\S+ — served by a worker", out)
    assert "make test" in out and "publish your own events" in out
    # The status table after the run lists all four keys with their windows closed.
    for key in ("support-bot", "code-assistant"):
        assert key in out
    assert processes_mentioning(str(tmp_path)) == []
