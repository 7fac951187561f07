"""A real HTTP receiver on loopback, in its own thread: what notifiers and Alertmanager post to."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from streams.testing.ports import free_port
from streams.testing.waiting import wait_for


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # wall-clock arrival (time.time())

    def json(self) -> Any:
        return json.loads(self.body)


class HttpReceiver:
    """Records every request; answers 200 unless told to answer otherwise.

    The port is fixed at construction, so :meth:`stop` and :meth:`start` bring the same
    endpoint down and up again (a receiver outage). Nothing listens before :meth:`start`.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._received: list[Received] = []
        self._statuses: deque[int] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (the body echoes the request)."""
        with self._lock:
            self._statuses.extend(statuses)

    def wait_for_requests(self, count: int, timeout: float = 30) -> list[Received]:
        wait_for(lambda: len(self.received) >= count, timeout, f"{count} requests at {self.url}")
        return self.received

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        with self._lock:
            self._received.append(
                Received(request.path, dict(request.headers), body, time.time())
            )
            status = self._statuses.popleft() if self._statuses else 200
        if status >= 300:
            # Echo the request in the error body, as some receivers do: a test can then check
            # that no secret from the request leaks into Seismo's messages.
            return web.Response(status=status, body=body, headers={"Retry-After": "0"})
        return web.Response(status=status, text="ok")

    def start(self) -> HttpReceiver:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"receiver-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise AssertionError(f"receiver on port {self.port} did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop.close()
        self._loop = self._runner = self._thread = None
