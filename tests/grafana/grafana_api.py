"""A loopback HTTP server that answers the few Grafana API routes ``seismo grafana push`` uses.

This is a boundary test double, not a stand-in for Grafana in any other test: no Grafana binary
is available here, and what the push tests check is our client code, i.e. which requests it
sends, with which bodies, in which order, and how it reads the documented answers (404 for a
missing object, ``version`` of a saved dashboard, 401 for a bad token). It keeps the objects
it was sent by uid, so a second push can be seen to update rather than duplicate, and it
refuses what Grafana refuses (a second object with the same uid or name, a rule or dashboard
in a folder that does not exist). It serves real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

Response = tuple[int, Any]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: Any


@dataclass
class GrafanaState:
    datasources: dict[str, dict] = field(default_factory=dict)
    folders: dict[str, dict] = field(default_factory=dict)
    dashboards: dict[str, dict] = field(default_factory=dict)
    dashboard_versions: dict[str, int] = field(default_factory=dict)
    rules: dict[str, dict] = field(default_factory=dict)
    contact_points: dict[str, dict] = field(default_factory=dict)
    policy_tree: dict | None = None


def _missing(what: str) -> Response:
    return 404, {"message": f"{what} not found"}


class RecordingGrafana:
    """Grafana's documented answers for the routes push uses, with every request recorded."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.state = GrafanaState()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        s = self
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", re.compile(r"/api/datasources/uid/([^/]+)"), s._get_datasource),
            ("PUT", re.compile(r"/api/datasources/uid/([^/]+)"), s._put_datasource),
            ("POST", re.compile(r"/api/datasources"), s._post_datasource),
            ("GET", re.compile(r"/api/folders/([^/]+)"), s._get_folder),
            ("POST", re.compile(r"/api/folders"), s._post_folder),
            ("POST", re.compile(r"/api/dashboards/db"), s._post_dashboard),
            ("GET", re.compile(r"/api/v1/provisioning/alert-rules/([^/]+)"), s._get_rule),
            ("PUT", re.compile(r"/api/v1/provisioning/alert-rules/([^/]+)"), s._put_rule),
            ("POST", re.compile(r"/api/v1/provisioning/alert-rules"), s._post_rule),
            ("GET", re.compile(r"/api/v1/provisioning/contact-points"), s._get_contacts),
            ("PUT", re.compile(r"/api/v1/provisioning/contact-points/([^/]+)"), s._put_contact),
            ("POST", re.compile(r"/api/v1/provisioning/contact-points"), s._post_contact),
            ("PUT", re.compile(r"/api/v1/provisioning/policies"), s._put_policies),
        ]

    # -- dispatch ----------------------------------------------------------------------------
    def handle(self, method: str, url: str, headers: Any, body: Any) -> Response:
        parsed = urlparse(url)
        with self._lock:
            self.requests.append(Request(method, parsed.path, body))
            if headers.get("Authorization") != f"Bearer {self.token}":
                return 401, {"message": "Unauthorized"}
            for route_method, pattern, handler in self._routes:
                match = pattern.fullmatch(parsed.path)
                if route_method == method and match:
                    return handler(*match.groups(), body=body, query=parse_qs(parsed.query))
        return 404, {"message": "Not found"}

    # -- data sources ------------------------------------------------------------------------
    def _get_datasource(self, uid: str, **_: Any) -> Response:
        found = self.state.datasources.get(uid)
        return (200, found) if found else _missing("data source")

    def _post_datasource(self, body: dict, **_: Any) -> Response:
        if any(d["name"] == body["name"] for d in self.state.datasources.values()):
            return 409, {"message": "data source with the same name already exists"}
        if body["uid"] in self.state.datasources:
            return 409, {"message": "data source with the same uid already exists"}
        stored = body | {"id": len(self.state.datasources) + 1}
        self.state.datasources[body["uid"]] = stored
        return 200, {"datasource": stored, "id": stored["id"], "message": "Datasource added"}

    def _put_datasource(self, uid: str, body: dict, **_: Any) -> Response:
        if uid not in self.state.datasources:
            return _missing("data source")
        previous = self.state.datasources[uid]
        # Secure fields not sent are kept, as Grafana does.
        stored = {"secureJsonData": previous.get("secureJsonData")} | body | {"id": previous["id"]}
        self.state.datasources[uid] = stored
        return 200, {"datasource": stored, "id": stored["id"], "message": "Datasource updated"}

    # -- folders and dashboards --------------------------------------------------------------
    def _get_folder(self, uid: str, **_: Any) -> Response:
        found = self.state.folders.get(uid)
        return (200, found) if found else _missing("folder")

    def _post_folder(self, body: dict, **_: Any) -> Response:
        if body.get("uid") in self.state.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        folder = {"uid": body["uid"], "title": body["title"], "id": len(self.state.folders) + 1}
        self.state.folders[body["uid"]] = folder
        return 200, folder

    def _post_dashboard(self, body: dict, **_: Any) -> Response:
        dashboard = body["dashboard"]
        uid = dashboard["uid"]
        if body.get("folderUid") and body["folderUid"] not in self.state.folders:
            return 400, {"message": "folder not found"}
        if "id" in dashboard and dashboard["id"] is not None and uid not in self.state.dashboards:
            return 404, {"message": "Dashboard not found"}
        if uid in self.state.dashboards and not body.get("overwrite"):
            return 412, {"message": "A dashboard with the same uid already exists",
                         "status": "name-exists"}
        version = self.state.dashboard_versions.get(uid, 0) + 1
        self.state.dashboard_versions[uid] = version
        self.state.dashboards[uid] = dashboard | {"version": version}
        return 200, {"id": sorted(self.state.dashboards).index(uid) + 1, "uid": uid,
                     "url": f"/d/{uid}", "status": "success", "version": version}

    # -- alert rules -------------------------------------------------------------------------
    def _get_rule(self, uid: str, **_: Any) -> Response:
        found = self.state.rules.get(uid)
        return (200, found) if found else _missing("alert rule")

    def _check_rule(self, body: dict) -> Response | None:
        required = ("title", "condition", "data", "folderUID", "ruleGroup", "for")
        missing = [key for key in required if body.get(key) in (None, "", [])]
        if missing:
            return 400, {"message": f"invalid alert rule: missing {missing}"}
        if body["folderUID"] not in self.state.folders:
            return 400, {"message": "folder does not exist"}
        return None

    def _post_rule(self, body: dict, **_: Any) -> Response:
        if body.get("uid") in self.state.rules:
            return 409, {"message": "an alert rule with this uid already exists"}
        refused = self._check_rule(body)
        if refused:
            return refused
        self.state.rules[body["uid"]] = body | {"provenance": "api"}
        return 201, self.state.rules[body["uid"]]

    def _put_rule(self, uid: str, body: dict, **_: Any) -> Response:
        if uid not in self.state.rules:
            return _missing("alert rule")
        refused = self._check_rule(body)
        if refused:
            return refused
        self.state.rules[uid] = body | {"provenance": "api"}
        return 200, self.state.rules[uid]

    # -- notifications -----------------------------------------------------------------------
    def _get_contacts(self, query: dict, **_: Any) -> Response:
        names = query.get("name")
        points = [p for p in self.state.contact_points.values() if not names or p["name"] in names]
        return 200, points

    def _post_contact(self, body: dict, **_: Any) -> Response:
        if body["uid"] in self.state.contact_points:
            return 400, {"message": "contact point with this uid already exists"}
        self.state.contact_points[body["uid"]] = body
        return 202, body

    def _put_contact(self, uid: str, body: dict, **_: Any) -> Response:
        if uid not in self.state.contact_points:
            return _missing("contact point")
        self.state.contact_points[uid] = body
        return 202, {"message": "contactpoint updated"}

    def _put_policies(self, body: dict, **_: Any) -> Response:
        receivers = {p["name"] for p in self.state.contact_points.values()}
        if body.get("receiver") not in receivers:
            return 400, {"message": f"receiver {body.get('receiver')!r} does not exist"}
        self.state.policy_tree = body
        return 202, {"message": "policies updated"}


class _Handler(BaseHTTPRequestHandler):
    grafana: RecordingGrafana

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        status, payload = self.grafana.handle(self.command, self.path, self.headers, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the recorded requests instead."""


@contextmanager
def serve(token: str) -> Iterator[tuple[str, RecordingGrafana]]:
    """``(base URL, recorder)`` of a server on a free loopback port, for the block's duration."""
    grafana = RecordingGrafana(token)
    handler = type("Handler", (_Handler,), {"grafana": grafana})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", grafana
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
