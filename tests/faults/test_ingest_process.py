"""An ingest process (here the only one, ``ingest_processes=1``) dies under the worker: killed
mid-stream it is replaced and its batch replayed, every event stored once; and when the worker
itself is killed without warning, the ingest process goes with it (no orphan left computing).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.support.faults import (
    COUNT_FINAL,
    assert_events_exactly_once,
    children,
    counters,
    publish,
    traffic,
)
from tests.support.workers import Deployment, wait_for

EVENTS = 10_000


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_ingest_process_is_replaced_and_a_killed_worker_leaves_none_behind(
    deployment: Deployment,
) -> None:
    deployment.extra_env.update({"SEISMO_EMBEDDING_ENABLED": "false",
                                 "SEISMO_BATCH_SIZE": "500", "SEISMO_INGEST_PROCESSES": "1"})
    events = traffic(EVENTS, seed=71)
    publish(deployment.bootstrap, deployment.traces_topic, events)
    deployment.start()
    worker = deployment.process.pid

    # Mid-stream: some batches stored, most still to come.
    wait_for(lambda: deployment.scalar("SELECT count() FROM events") >= 1_000, 120,
             "the first thousand events")
    [first] = wait_for(lambda: children(worker), 30, "the ingest process")
    os.kill(first, signal.SIGKILL)
    at_kill = deployment.scalar("SELECT count() FROM events")
    assert at_kill < EVENTS, "the kill landed after the end of the stream"

    deployment.wait_rows(COUNT_FINAL, EVENTS)
    assert_events_exactly_once(deployment, events)
    assert counters(deployment)["seismo_ingest_process_restarts_total"] >= 1
    [second] = children(worker)
    assert second != first

    # SIGKILL of the worker: its ingest process notices and exits by itself.
    assert deployment.stop(signal.SIGKILL) == -signal.SIGKILL
    wait_for(lambda: not alive(second), 30, "the ingest process to exit after its worker")
    print(f"\nkilled the ingest process with {at_kill} of {EVENTS} events stored")
