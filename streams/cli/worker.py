"""``seismo worker``: run one worker, with the fault hooks a fault test asked for (none else)."""

from __future__ import annotations

from streams.cli.common import settings


def worker() -> None:
    """Run a worker: consume the trace and feedback topics into ClickHouse."""
    from streams.service.worker import run
    from streams.testing.faults import fault_hooks

    run(settings(), hooks=fault_hooks())
