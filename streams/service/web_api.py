"""The worker's web API: routes behind bearer-token scopes, bounded JSON bodies, JSON errors.

Other processes read the embedded store through it while this worker holds the store
(``POST /api/query``), pin baselines (``POST /api/baselines``), erase a user's rows
(``POST /api/forget``), and watch the worker
(``GET /api/health``, ``GET /metrics``). A route is one decorated coroutine::

    @api.route("POST", "/api/forget", scope="admin")
    async def forget(call: ApiCall) -> dict:
        ...                     # call.body: the JSON object; call.caller: the token's name

``scope`` is ``"read"``, ``"admin"`` or None (public). A handler returns a JSON-able value or
:class:`PlainText`, and refuses with :class:`ApiError`; every refusal reaches the client as
``{"error": "<one line>"}`` with a 4xx status.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import faust
from faust.web import Request, Response, View

from streams.api_tokens import SCOPES, ApiTokens
from streams.kafka.progress import ProgressWatch
from streams.metrics import Metrics
from streams.settings import Settings
from streams.store.client import ClickHouseStore
from streams.store.query_guard import ApiQueries, QueryRefused

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal: the status and the one line the client reads."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One authorised request: who sent it and its JSON body (None for a GET)."""

    request: Request
    caller: str  # the token's name; "" on a public route
    body: dict[str, Any] | None

    def field(self, name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        """The body's field ``name``, of type ``kind``; ApiError 400 when missing or odd."""
        body = self.body or {}
        if name not in body or body[name] is None:
            if default is ...:
                raise ApiError(400, f"the body needs the field {name!r}")
            return default
        value = body[name]
        # bool is an int to isinstance; a JSON true is never a number here.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
            raise ApiError(400, f"the field {name!r} must be {_kind_name(kind)}")
        return value


@dataclass(frozen=True, slots=True)
class PlainText:
    body: str
    content_type: str = "text/plain"


# A browser cannot send a bearer header on a plain navigation: the pages a person opens
# (``browser=True`` routes, GET only) also take the token from this cookie, set by opening the
# page once with ``?token=<token>`` (answered by a redirect that drops it from the address
# bar and history). HttpOnly and SameSite=Strict: no script reads it, no other site sends it;
# the routes that change state never read it.
TOKEN_COOKIE = "seismo_token"


@dataclass(frozen=True, slots=True)
class JsonReply:
    """A JSON answer with a status other than 200 (a handler's plain value is a 200)."""

    value: Any
    status: int


Handler = Callable[[ApiCall], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class _Route:
    handler: Handler
    scope: str | None
    browser: bool = False


class WebApi:
    """The routes of one Faust app, and the checks every request passes before its handler."""

    def __init__(self, app: faust.App, tokens: ApiTokens, max_body_bytes: int) -> None:
        self.app = app
        self.tokens = tokens
        self.max_body_bytes = max_body_bytes
        self._routes: dict[str, dict[str, _Route]] = {}

    def route(self, method: str, path: str, scope: str | None,
              browser: bool = False) -> Callable[[Handler], Handler]:
        if scope is not None and scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES} or None, got {scope!r}")
        if browser and method.upper() != "GET":
            raise ValueError("only GET routes take the token from a cookie")

        def register(handler: Handler) -> Handler:
            methods = self._routes.get(path)
            if methods is None:
                methods = self._routes[path] = {}
                self._add_view(path)
            methods[method.upper()] = _Route(handler, scope, browser)
            return handler

        return register

    def _add_view(self, path: str) -> None:
        api = self

        async def serve(view: View, request: Request) -> Response:
            return await api._serve(view, request, path)

        # One Faust view per path; every method lands in _serve, which answers 405 itself.
        view = type(f"ApiView{path}", (View,), {"get": serve, "post": serve, "put": serve,
                                                "delete": serve, "patch": serve})
        self.app.page(path)(view)

    async def _serve(self, view: View, request: Request, path: str) -> Response:
        route = self._routes[path].get(request.method)
        try:
            if route is None:
                raise ApiError(405, f"{request.method} is not served on {path}")
            if route.browser and "token" in request.query:
                return self._set_cookie(view, request, route.scope, path)
            caller = self._authorise(request, route, path)
            body = await self._json_body(request) if request.method != "GET" else None
            result = await route.handler(ApiCall(request, caller, body))
        except ApiError as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            return view.json({"error": exc.message}, status=exc.status, headers=headers)
        except Exception:  # the worker carries on; the client gets one line, the log the rest
            log.exception("%s %s failed", request.method, path)
            return view.json({"error": "internal error (see the worker's log)"}, status=500)
        if isinstance(result, PlainText):
            # Pages are rendered per request from live data: never cached on the way.
            return view.text(result.body, content_type=result.content_type,
                             headers={"Cache-Control": "no-store"})
        status = 200
        if isinstance(result, JsonReply):
            result, status = result.value, result.status
        # A query answer can be tens of MiB: encoded beside the event loop, not in it.
        encoded = await asyncio.to_thread(_encode_json, result)
        return view.bytes(encoded, content_type="application/json", status=status)

    def _authorise(self, request: Request, route: _Route, path: str) -> str:
        if route.scope is None:
            return ""
        header = request.headers.get("Authorization")
        if not header and route.browser and request.cookies.get(TOKEN_COOKIE):
            header = f"Bearer {request.cookies[TOKEN_COOKIE]}"
        if not header:
            raise ApiError(401, "missing token: send Authorization: Bearer <token>"
                           + (f", or open {path}?token=<token> once" if route.browser else ""))
        return self._grant(header, route.scope, path)

    def _grant(self, header: str, scope: str, path: str) -> str:
        token = self.tokens.identify(header)
        if token is None:
            raise ApiError(401, "unknown token")
        if not token.grants(scope):
            raise ApiError(403, f"token {token.name!r} has scope {token.scope}; "
                                f"{path} needs {scope}")
        return token.name

    def _set_cookie(self, view: View, request: Request, scope: str | None, path: str
                    ) -> Response:
        """``?token=`` on a page: checked, kept in the cookie, and gone from the address."""
        token = request.query["token"]
        self._grant(f"Bearer {token}", scope or "read", path)
        rest = urlencode([(k, v) for k, v in request.query.items() if k != "token"])
        return view.text("", status=303, headers={
            "Location": path + (f"?{rest}" if rest else ""),
            "Set-Cookie": f"{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/",
            "Cache-Control": "no-store",
        })

    async def _json_body(self, request: Request) -> dict[str, Any]:
        # The content type first: a browser's cross-site form or text/plain POST needs no
        # preflight, a JSON one does, so refusing everything else closes that door.
        if request.content_type != "application/json":
            raise ApiError(415, "Content-Type must be application/json")
        length = request.content_length
        if length is not None and length > self.max_body_bytes:
            raise ApiError(413, f"the body is {length} bytes; at most "
                                f"{self.max_body_bytes} are read (api_max_body_bytes)")
        raw = await self._read_capped(request)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"malformed JSON: {str(exc).splitlines()[0]}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "the body must be a JSON object")
        return body

    async def _read_capped(self, request: Request) -> bytes:
        """The body, read a chunk at a time so a chunked upload stops at the cap, not after."""
        chunks: list[bytes] = []
        size = 0
        while chunk := await request.content.readany():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise ApiError(413, f"the body is over {self.max_body_bytes} bytes "
                                    "(api_max_body_bytes)")
            chunks.append(chunk)
        return b"".join(chunks)


def add_web_api(
    app: faust.App, settings: Settings, store: ClickHouseStore, metrics: Metrics,
    tokens: ApiTokens, progress: ProgressWatch | None = None,
) -> WebApi:
    """The worker's routes on ``app``: health, query, baselines, forget and Prometheus metrics."""
    api = WebApi(app, tokens, settings.api_max_body_bytes)
    queries = ApiQueries.from_settings(store, settings)

    @api.route("GET", "/api/health", scope=None)
    async def health(call: ApiCall) -> JsonReply:
        # 503 once ingestion stalled (streams.kafka.progress), for a load balancer's or an
        # orchestrator's probe; the body says which partitions.
        state = progress.status() if progress is not None else {"progressing": True}
        ok = bool(state["progressing"])
        return JsonReply({"ok": ok, "status": "ok" if ok else "not progressing",
                          "counters": metrics.snapshot(), **state}, 200 if ok else 503)

    @api.route("POST", "/api/query", scope="read")
    async def query(call: ApiCall) -> dict[str, Any]:
        sql = call.field("sql", str)
        parameters = call.field("parameters", dict, {})
        started = time.monotonic()
        try:
            columns, rows = await store.run(queries.run, sql, parameters)
        except QueryRefused as exc:
            _log_query(call.caller, sql, started, refused=str(exc))
            raise ApiError(400, str(exc)) from None
        _log_query(call.caller, sql, started, rows=len(rows))
        return {"columns": columns, "rows": rows}

    @api.route("POST", "/api/baselines", scope="admin")
    async def pin_baseline(call: ApiCall) -> dict[str, Any]:
        from streams.windows.baselines import insert_baseline

        try:
            await store.run(insert_baseline, store, call.body)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        log.info("baseline pinned by %s", call.caller, extra={"token": call.caller})
        return {"ok": True}

    @api.route("POST", "/api/forget", scope="admin")
    async def forget(call: ApiCall) -> dict[str, Any]:
        from streams.store.forget import forget_subjects

        ids = {name: call.field(name, list, []) for name in ("user_ids", "conversation_ids")}
        if not all(isinstance(v, str) for values in ids.values() for v in values):
            raise ApiError(400, "user_ids and conversation_ids must be lists of strings")
        try:
            removed = await store.run(forget_subjects, settings, store, ids["user_ids"],
                                      ids["conversation_ids"])
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        # Counts only: the ids are the personal data being erased.
        log.info("forget by %s: %s", call.caller, removed,
                 extra={"token": call.caller, "removed": removed})
        return {"removed": removed}

    @api.route("GET", "/metrics", scope=None if settings.metrics_public else "read")
    async def prometheus(call: ApiCall) -> PlainText:
        return PlainText(metrics.render(), "text/plain; version=0.0.4")

    return api


def _log_query(caller: str, sql: str, started: float, rows: int | None = None,
               refused: str | None = None) -> None:
    """One structured line per query: who (the token's name), what, how it ended; no rows."""
    fields = {"token": caller, "sql": sql[:500], "ms": round((time.monotonic() - started) * 1e3)}
    if refused is None:
        log.info("api query by %s: %d rows", caller, rows, extra={**fields, "rows": rows})
    else:
        log.info("api query by %s refused: %s", caller, refused,
                 extra={**fields, "refused": refused})


def _encode_json(value: Any) -> bytes:
    return json.dumps(_json_safe(value), default=str).encode()  # UUID, Decimal, date


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return value


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", dict: "an object", list: "a list", int: "an integer",
             float: "a number", bool: "true or false"}
    return " or ".join(names.get(k, k.__name__) for k in _kinds(kind))
