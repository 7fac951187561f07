"""Ingest processes: batches prepared (decode, scanners, rows) beside the worker's event loop.

Preparing a batch is most of the ingest path's CPU (:mod:`streams.ingest.prepare`), and the event
loop runs it on one core while the machine has more. A :class:`PreparePool` keeps
``ingest_processes`` child processes, each with its own :class:`~streams.ingest.prepare.Preparer`
(built from the picklable :class:`~streams.ingest.prepare.PrepareConfig`), and hands each batch's
record values to them, split evenly; the ingest consumer submits a batch as soon as it is
fetched, so the children prepare batch N+1 while the worker inserts batch N, publishes its
dead letters and commits it.

Why these mechanics:

* A fresh interpreter (``python -m streams.ingest.pool``), never ``fork``: the worker has
  threads (chdb's, aiokafka's, executors), and a forked copy of a process with threads may
  hold a lock forever. Nor multiprocessing's ``spawn``, which re-runs the parent's main
  script in the child (a script without a ``__main__`` guard would start a second worker).
  The child imports what it needs and gets its configuration as the first message.
* One stream socket per child, length-prefixed pickles, read and written by the event loop
  (asyncio streams): a request is buffered, never blocks the loop while the child is busy,
  and answers come back in order, so a request whose batch was dropped (a replay) is answered
  and ignored without desynchronising the next.
* A child dies with its worker: it exits on end-of-stream from its socket (the kernel closes
  the worker's end when the worker dies, even by SIGKILL), and a thread checks its parent pid
  every second for the case where it is busy with a batch when that happens.
* A child that dies (killed, out of memory) fails its pending batches with
  :class:`IngestProcessDied`; the consumer replays them, and the next batch starts a new child.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from streams.heap import freeze_startup_objects, tune_malloc
from streams.ingest.prepare import PrepareConfig, Prepared, PrepareFn, Preparer
from streams.metrics import Metrics
from streams.store.native import NativeBlock

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")  # payload length
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # where `streams` is imported from
PARENT_CHECK_SECONDS = 1.0
_READ_LIMIT = 64 * 1024 * 1024
JOIN_SECONDS = 5.0  # a closing child finishes its batch and exits; then it is killed


class IngestProcessDied(RuntimeError):
    """An ingest process exited with batches pending (they are replayed)."""


class IngestProcessFailed(RuntimeError):
    """Preparing a batch raised in the ingest process (the message is its traceback)."""


class PreparePool:
    """``processes`` ingest processes preparing batches for the worker's pipelines.

    :meth:`start` spawns them (the consumer does, before its first batch), :meth:`prepare`
    submits a batch, :meth:`close` ends them. A dead child is replaced on the next batch;
    ``seismo_ingest_process_restarts_total`` counts the replacements.
    """

    def __init__(self, config: PrepareConfig, processes: int, metrics: Metrics) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1, got {processes}")
        self.config = config
        self.metrics = metrics
        self._children: list[_Child | None] = [None] * processes

    def for_source(self, source: str) -> PrepareFn:
        """A pipeline's ``prepare`` for one source (see :data:`streams.ingest.prepare.SOURCES`)."""
        return lambda values, now: self.prepare(source, values, now)

    def pids(self) -> list[int]:
        """Process ids of the children alive now."""
        return [c.process.pid for c in self._children if c is not None and not c.dead]

    async def start(self) -> None:
        for i in range(len(self._children)):
            self._child(i)

    def prepare(self, source: str, values: Sequence[bytes | None],
                now: datetime) -> asyncio.Future[Prepared]:
        """Submit a batch now; the future is its prepared form. Values are split into one
        contiguous part per child and the parts joined in order."""
        parts = _split(len(values), len(self._children))
        futures = [self._child(i).submit((source, values[start:end], now))
                   for i, (start, end) in enumerate(parts)]
        if len(futures) == 1:
            return futures[0]
        joined = asyncio.gather(*futures)
        return asyncio.ensure_future(_join(joined, [start for start, _ in parts]))

    async def close(self) -> None:
        """End every child: it finishes what it holds, sees end-of-stream and exits."""
        children = [c for c in self._children if c is not None]
        self._children = [None] * len(self._children)
        await asyncio.gather(*(c.close() for c in children))

    def _child(self, i: int) -> _Child:
        child = self._children[i]
        if child is None or child.dead:
            if child is not None:
                self.metrics.inc("seismo_ingest_process_restarts_total")
                child.reap()
            child = self._children[i] = _Child.spawn(self.config)
        return child


def _split(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous (start, end) ranges covering ``range(n)``, sizes differing by at
    most one (empty ones dropped, but at least one range)."""
    size, extra = divmod(n, parts)
    bounds, start = [], 0
    for i in range(parts):
        end = start + size + (i < extra)
        bounds.append((start, end))
        start = end
    return [b for b in bounds if b[1] > b[0]] or [(0, 0)]


async def _join(parts: Any, offsets: list[int]) -> Prepared:
    """The prepared parts of one batch as one: blocks and rows in order (Native blocks
    concatenate), rejection indexes into the whole batch, counters summed."""
    prepared: list[Prepared] = await parts
    counters: Counter[Any] = Counter()
    for part in prepared:
        counters.update(part.counters)
    return Prepared(
        NativeBlock.join(part.block for part in prepared),
        [times for part in prepared for times in part.stream_times],
        [(offset + i, r) for part, offset in zip(prepared, offsets, strict=True)
         for i, r in part.rejected],
        dict(counters),
    )


class _Child:
    """One ingest process and the parent's end of its socket."""

    def __init__(self, process: subprocess.Popen, sock: socket.socket,
                 config: PrepareConfig) -> None:
        self.process = process
        self.dead = False
        self._pending: deque[asyncio.Future[Prepared]] = deque()
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task | None = None
        self._connected = asyncio.ensure_future(self._connect(sock))
        self._send(config)  # the first frame: what the child builds its Preparer from

    @classmethod
    def spawn(cls, config: PrepareConfig) -> _Child:
        parent, child = socket.socketpair()
        # A fresh interpreter running this module (not multiprocessing's spawn, which would
        # re-import the worker's __main__), given its end of the socket and the worker's pid.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))}
        process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(child.fileno()), str(os.getpid())],
            pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, env=env,
        )
        child.close()  # the child has its own copy; the parent keeps only its end
        log.info("ingest process %d started", process.pid)
        return cls(process, parent, config)

    async def _connect(self, sock: socket.socket) -> None:
        try:
            # A read buffer that holds a whole answer: with the default (64 KiB) the transport
            # would pause and resume reading every 128 KiB of a batch's rows.
            reader, self._writer = await asyncio.open_connection(sock=sock, limit=_READ_LIMIT)
        except Exception as exc:  # nothing would ever answer: fail what is pending
            self._died(exc)
            return
        self._reader_task = asyncio.ensure_future(self._read(reader))

    def submit(self, request: tuple[str, Sequence[bytes | None], datetime]) -> asyncio.Future:
        future: asyncio.Future[Prepared] = asyncio.get_running_loop().create_future()
        self._pending.append(future)
        self._send(request)
        return future

    def _send(self, message: Any) -> None:
        frame = _frame(message)

        def send(_: Any) -> None:
            if self._writer is not None and not self.dead:
                self._writer.write(frame)

        # Connected within one turn of the loop; frames keep the order they were sent in.
        self._connected.add_done_callback(send)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                (length,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
                status, value = _loads(await reader.readexactly(length))
                future = self._pending.popleft()
                if future.done():  # its batch was dropped meanwhile
                    continue
                if status == "ok":
                    future.set_result(value)
                else:
                    future.set_exception(IngestProcessFailed(value))
        except Exception as exc:  # end-of-stream above all: the child is gone
            self._died(exc)

    def _died(self, exc: BaseException) -> None:
        self.dead = True
        code = self.process.poll()
        log.warning("ingest process %s exited (code %s) with %d batches pending: %s",
                    self.process.pid, code, len(self._pending), type(exc).__name__)
        while self._pending:
            future = self._pending.popleft()
            if not future.done():
                future.set_exception(IngestProcessDied(
                    f"ingest process {self.process.pid} exited (code {code})"))
        if self._writer is not None:
            self._writer.close()

    def reap(self) -> None:
        """Collect a dead child's exit status (it is gone: this does not wait)."""
        self.process.poll()

    async def close(self) -> None:
        self.dead = True
        with contextlib.suppress(Exception):
            await self._connected
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
        try:
            await asyncio.to_thread(self.process.wait, JOIN_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)


def _loads(payload: bytes) -> Any:
    """Unpickle a batch's answer with the cyclic collector off: its window clock fields are
    thousands of new tuples, enough allocations for collections that walk them and find
    nothing to free (they hold no cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(payload)
    finally:
        if enabled:
            gc.enable()


def _frame(message: Any) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


# -- the child's side -----------------------------------------------------------------------
def _serve(sock: socket.socket, parent_pid: int) -> None:
    """The ingest process: prepare each request until the parent closes the socket or dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the parent's to act on
    tune_malloc()  # batches of every size come and go here too (see streams.heap)
    threading.Thread(target=_exit_with, args=(parent_pid,), daemon=True).start()
    with sock:
        config = _receive(sock)
        if config is None:
            return
        preparer = Preparer(pickle.loads(config))
        preparer.scanner  # noqa: B018  # loaded now, not during the first batch
        freeze_startup_objects()
        while (request := _receive(sock)) is not None:
            source, values, now = pickle.loads(request)
            try:
                answer: tuple[str, Any] = ("ok", preparer(source, values, now))
            except Exception:  # the parent replays the batch and logs this
                answer = ("error", traceback.format_exc())
            try:
                sock.sendall(_frame(answer))
            except OSError:  # the parent is gone
                return


def _receive(sock: socket.socket) -> bytes | None:
    """One request's bytes, or None at end-of-stream."""
    header = _receive_exactly(sock, _HEADER.size)
    if header is None:
        return None
    return _receive_exactly(sock, _HEADER.unpack(header)[0])


def _receive_exactly(sock: socket.socket, n: int) -> bytes | None:
    buffer = bytearray(n)
    view = memoryview(buffer)
    while view:
        got = sock.recv_into(view)
        if got == 0:
            return None
        view = view[got:]
    return bytes(buffer)


def _exit_with(parent_pid: int) -> None:
    """Exit as soon as the parent is gone (re-parented: the pid changes)."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])), int(sys.argv[2]))
