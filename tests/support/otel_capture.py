"""Spans and log records from the real OpenTelemetry instrumentations of the ``openai``
client, as the Collector's kafka exporter would publish them.

A local OpenAI-compatible server (:class:`FakeOpenAI`: chat, streamed chat, embeddings, and a
400 for the model ``no-such-model``) answers the calls; each instrumentation mode runs in a
process of its own (they all patch the same ``openai`` module), records its spans and log
records in memory and writes one ``ExportTraceServiceRequest`` and one
``ExportLogsServiceRequest``, each as ``otlp_proto`` (protobuf) and ``otlp_json`` (the OTLP
JSON mapping: camelCase, hex ids), as the Collector encodes them::

    python -m tests.support.otel_capture MODE BASE_URL OUT_DIR
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from streams.testing.ports import free_port

# mode -> environment set before the instrumentation is imported
MODES: dict[str, dict[str, str]] = {
    "openai_v2_span": {"OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
                       "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only"},
    "openinference": {},
    "openinference_genai": {"OPENINFERENCE_ENABLE_GENAI_SEMCONV": "true"},
    "openllmetry": {"TRACELOOP_TRACE_CONTENT": "true"},
    # Content as log records (the logs topic): openai-v2's default event form, and
    # OpenLLMetry's events mode (``use_attributes=False``).
    "openai_v2_events": {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"},
    "openllmetry_events": {"TRACELOOP_TRACE_CONTENT": "true"},
}
LOG_MODES = ("openai_v2_events", "openllmetry_events")
ROUNDS = 3
FAILING_MODEL = "no-such-model"
SYSTEM = "You are the support assistant of Voltline Electronics. Answer briefly."
QUESTIONS = ("Where is my order 4411?", "How do I return a charger that stopped working?",
             "Can I change the e-mail on my account?")


@dataclass(frozen=True)
class Call:
    kind: str  # chat, stream, error, embeddings
    prompt: str


def calls() -> list[Call]:
    """The model calls each mode makes, in order."""
    out = []
    for question in QUESTIONS[:ROUNDS]:
        out += [Call("chat", question), Call("chat_system", question),
                Call("stream", question), Call("error", question)]
    out += [Call("embeddings", q) for q in QUESTIONS[:2]]
    return out


def answer(prompt: str) -> str:
    return f"Here is what I found about: {prompt}"


class FakeOpenAI:
    """An OpenAI-compatible HTTP server on loopback, in a thread of its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body.get("model") == FAILING_MODEL:
            return web.json_response({"error": {"message": "The model does not exist",
                                                "type": "invalid_request_error",
                                                "code": "model_not_found"}}, status=404)
        text = answer(str(body["messages"][-1]["content"]))
        usage = {"prompt_tokens": 21, "completion_tokens": 9, "total_tokens": 30}
        base = {"id": "chatcmpl-1", "created": int(time.time()), "model": body["model"]}
        if not body.get("stream"):
            return web.json_response({**base, "object": "chat.completion", "usage": usage,
                                      "choices": [{"index": 0, "finish_reason": "stop",
                                                   "message": {"role": "assistant",
                                                               "content": text}}]})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        words = text.split(" ")
        for i, word in enumerate(words):
            delta = {"content": ("" if i == 0 else " ") + word}
            if i == 0:
                delta["role"] = "assistant"
            chunk = {**base, "object": "chat.completion.chunk", "choices": [
                {"index": 0, "delta": delta,
                 "finish_reason": "stop" if i == len(words) - 1 else None}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        final = {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}
        await response.write(f"data: {json.dumps(final)}\n\ndata: [DONE]\n\n".encode())
        await response.write_eof()
        return response

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return web.json_response({
            "object": "list", "model": body["model"],
            "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}
                     for i, _ in enumerate(inputs)],
            "usage": {"prompt_tokens": 8, "total_tokens": 8}})

    def start(self) -> FakeOpenAI:
        ready = threading.Event()

        async def serve() -> None:
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._chat)
            app.router.add_post("/v1/embeddings", self._embeddings)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(serve())
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True, name="fake-openai").start()
        assert ready.wait(10), "the fake OpenAI server did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None and self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)


@dataclass(frozen=True)
class Captured:
    """One mode's export requests, each as (otlp_proto, otlp_json) bytes."""

    spans: tuple[bytes, bytes]
    logs: tuple[bytes, bytes]


def capture(mode: str, base_url: str, out: Path) -> Captured:
    """Run ``mode`` in a child process; its spans and log records."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **MODES[mode], "OTEL_SDK_DISABLED": "false"}
    run = subprocess.run([sys.executable, "-m", "tests.support.otel_capture", mode, base_url,
                          str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    return Captured(*(((out / f"{name}.pb").read_bytes(), (out / f"{name}.json").read_bytes())
                      for name in ("spans", "logs")))


def _instrument(mode: str, logger_provider) -> None:
    if mode.startswith("openai_v2"):
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    elif mode.startswith("openinference"):
        from openinference.instrumentation.openai import OpenAIInstrumentor
    else:
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor
    options = {"use_attributes": False} if mode == "openllmetry_events" else {}
    OpenAIInstrumentor(**options).instrument(logger_provider=logger_provider)


def _call(client, call: Call) -> None:
    import openai

    messages = [{"role": "user", "content": call.prompt}]
    if call.kind == "chat_system":
        messages.insert(0, {"role": "system", "content": SYSTEM})
    if call.kind == "embeddings":
        client.embeddings.create(model="text-embedding-3-small", input=call.prompt)
    elif call.kind == "stream":
        for _ in client.chat.completions.create(model="gpt-4o-mini", messages=messages,
                                                stream=True,
                                                stream_options={"include_usage": True}):
            pass
    elif call.kind == "error":
        try:
            client.chat.completions.create(model=FAILING_MODEL, messages=messages)
        except openai.NotFoundError:
            pass
    else:
        client.chat.completions.create(model="gpt-4o-mini", messages=messages,
                                       temperature=0.2)


def _hex_ids(value):
    """The OTLP JSON mapping writes ids as hex; protobuf's JSON writes bytes as base64."""
    import base64

    if isinstance(value, dict):
        return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId")
                    and isinstance(v, str) else _hex_ids(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_hex_ids(v) for v in value]
    return value


def main(mode: str, base_url: str, out: str) -> None:
    import openai
    from opentelemetry import trace
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    resource = Resource.create({"service.name": f"app-{mode}"})
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(provider)
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    _instrument(mode, logger_provider)
    client = openai.OpenAI(base_url=base_url + "/v1", api_key="sk-test", max_retries=0)
    tracer = trace.get_tracer("app")
    # One span around the calls that is not a model call, in each convention's own terms.
    wrapper = {"openinference.span.kind": "CHAIN"} if mode.startswith("openinference") else (
        {"traceloop.span.kind": "workflow"} if mode.startswith("openllmetry") else {})
    with tracer.start_as_current_span("handle-request", attributes=wrapper):
        for call in calls():
            _call(client, call)
    provider.force_flush()
    logger_provider.force_flush()
    _write(Path(out), spans.get_finished_spans(), logs.get_finished_logs())


def _write(out: Path, spans, logs) -> None:
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    for name, request in (("spans", encode_spans(spans)), ("logs", encode_logs(logs))):
        (out / f"{name}.pb").write_bytes(request.SerializeToString())
        (out / f"{name}.json").write_text(json.dumps(_hex_ids(MessageToDict(request))))


if __name__ == "__main__":
    main(*sys.argv[1:4])
