"""A real Prometheus Alertmanager for integration tests (Debian's ``prometheus-alertmanager``).

Started on free loopback ports with clustering off, its data in a temporary directory, and
one webhook receiver pointing at a test HTTP server. Grouping is per alert (``group_by:
['...']``) and fast (``group_wait``/``group_interval`` of a second), so a notification
follows a posted alert within seconds. ``repeat_interval`` stays long on purpose: a repeat
of an unchanged firing notification is Alertmanager's reminder feature, and the tests count
notifications to check that an alert is announced exactly once.

Seismo's Watchdog (an alert that always fires) is routed as the README says to route it: to a
receiver of its own, the dead man's switch. Here that receiver posts to ``watchdog_url`` when
one is given, and nowhere otherwise, so the other tests hear only the alerts they page on.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from streams.testing.ports import free_port
from streams.testing.waiting import terminate, wait_for

BINARIES = ("prometheus-alertmanager", "alertmanager")
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

CONFIG = """\
route:
  receiver: test-webhook
  group_by: ['...']
  group_wait: {group_wait}
  group_interval: {group_interval}
  repeat_interval: {repeat_interval}
  routes:
    - matchers: ['alertname="Watchdog"']
      receiver: deadmans-switch
receivers:
  - name: test-webhook
    webhook_configs:
      - url: {webhook_url}
        send_resolved: true
  - name: deadmans-switch
{watchdog_receiver}"""
WATCHDOG_RECEIVER = """\
    webhook_configs:
      - url: {url}
        send_resolved: true
"""


def alertmanager_binary() -> str | None:
    """The Alertmanager executable: ``SEISMO_ALERTMANAGER_BIN`` or the first one on PATH."""
    explicit = os.environ.get("SEISMO_ALERTMANAGER_BIN")
    if explicit:
        return explicit
    return next((path for name in BINARIES if (path := shutil.which(name))), None)


@dataclass
class Alertmanager:
    """One Alertmanager process; :meth:`stop` and :meth:`start` keep its ports and storage."""

    binary: str
    root: Path
    webhook_url: str
    group_wait: str = "1s"
    group_interval: str = "1s"
    repeat_interval: str = "1h"
    watchdog_url: str = ""
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / "alertmanager.yml"
        path.write_text(
            CONFIG.format(
                group_wait=self.group_wait,
                group_interval=self.group_interval,
                repeat_interval=self.repeat_interval,
                webhook_url=self.webhook_url,
                watchdog_receiver=(WATCHDOG_RECEIVER.format(url=self.watchdog_url)
                                   if self.watchdog_url else ""),
            )
        )
        return path

    @property
    def log_path(self) -> Path:
        return self.root / f"alertmanager-{self.starts}.log"

    def start(self, timeout: float = 30) -> Alertmanager:
        config = self.write_config()
        self.starts += 1
        self.process = subprocess.Popen(
            [
                self.binary,
                f"--config.file={config}",
                f"--storage.path={self.root / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",  # empty: no gossip, a single instance
                "--log.level=debug",
            ],
            stdout=open(self.log_path, "wb"),
            stderr=subprocess.STDOUT,
        )
        wait_for(self._ready, timeout, f"Alertmanager on port {self.port} to be ready")
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"Alertmanager exited with {self.process.returncode}:\n{self.log()}"
            )
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self, timeout: float = 15) -> None:
        if self.process is None:
            return
        terminate(self.process, timeout)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` on ``/metrics`` whose labels include ``labels``."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=5) as response:
            text = response.read().decode()
        total = 0.0
        for line in text.splitlines():
            sample = _SAMPLE.match(line)
            if not sample or sample["name"] != name:
                continue
            found = dict(_LABEL.findall(sample["labels"] or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(sample["value"])
        return total
