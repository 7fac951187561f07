"""A tiny local stand-in for an OpenAI-compatible chat-completions endpoint (a boundary the
explanation tests must control: no network, and a way to fail on purpose)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ChatServer:
    """Answers ``POST /v1/chat/completions`` with ``reply(request body)``, or ``status``."""

    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def reply(self, body: dict[str, Any]) -> str:
        keywords = body["messages"][-1]["content"].splitlines()[0].removeprefix("Keywords: ")
        return f"Prompts about {keywords}. A second sentence the report leaves out."


@contextmanager
def chat_server(status: int = 200) -> Iterator[ChatServer]:
    server_state = ChatServer(status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length))
            server_state.requests.append({"path": self.path, **body})
            server_state.headers.append(dict(self.headers))
            if server_state.status != 200 or self.path != "/v1/chat/completions":
                self.send_error(server_state.status if server_state.status != 200 else 404)
                return
            answer = {"id": "chatcmpl-1", "object": "chat.completion", "choices": [
                {"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": server_state.reply(body)}}]}
            payload = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:  # keep pytest's output clean
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
