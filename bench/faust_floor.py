"""A Faust agent that only takes and acknowledges records: the framework's cost per event.

Run by ``throughput.py``: ``python bench/faust_floor.py BOOTSTRAP TOPIC EVENTS BATCH SECONDS``.
It has the fetch options of ``streams.service.app`` and the same ``noack_take`` + ``ack`` loop,
but no decode, no signals, no ClickHouse. Extra ``faust.App`` options may be given as a JSON
object in ``SEISMO_BENCH_FAUST_OPTIONS`` (to try settings). Prints one JSON line: events taken
after the first batch, the seconds from the first batch to the last, and the process CPU
seconds over that interval.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from typing import Any

import faust

from streams.service.app import MAX_RECORD_BYTES


def main() -> None:
    bootstrap, topic, expected, batch, within = sys.argv[1:6]
    total, size, seconds = int(expected), int(batch), float(within)
    app = faust.App(
        f"bench-floor-{uuid.uuid4().hex[:8]}",
        broker=f"kafka://{bootstrap}",
        store="memory://",
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        # as streams.service.app: it sets the fetch latency
        consumer_max_fetch_size=MAX_RECORD_BYTES,
        web_enabled=False,
        datadir=tempfile.mkdtemp(prefix="seismo-floor-"),
        key_serializer="raw",
        value_serializer="raw",
        **json.loads(os.environ.get("SEISMO_BENCH_FAUST_OPTIONS", "{}")),
    )
    source = app.topic(topic, value_type=bytes, key_type=bytes)
    seen = {"events": 0}
    first: dict[str, float] = {}

    @app.agent(source)
    async def take(stream: Any) -> None:
        async for events in stream.noack_take(size, within=seconds):
            if not first:
                first.update(wall=time.monotonic(), cpu=time.process_time(), n=len(events))
            seen["events"] += len(events)
            for event in events:
                await stream.ack(event)
            if seen["events"] >= total:
                print(json.dumps({
                    "events": seen["events"] - first["n"],
                    "seconds": time.monotonic() - first["wall"],
                    "cpu_seconds": time.process_time() - first["cpu"],
                }), flush=True)
                os._exit(0)  # the figure is out; a graceful Faust stop takes seconds

    faust.Worker(app, loglevel="WARNING", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
