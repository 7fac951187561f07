"""``seismo worker`` with cProfile switched on and off by signals, for ``throughput.py``.

Run: ``python bench/profiled_worker.py STATS_FILE`` with the usual ``SEISMO_*`` environment.
The first :data:`TOGGLE` signal starts profiling the event-loop thread, the second stops it and
writes ``STATS_FILE``, so the profile covers consumption only, not imports and start-up. (mode's
worker takes SIGUSR1 for task tracebacks and SIGUSR2 for pdb, hence a real-time signal.)
"""

from __future__ import annotations

import cProfile
import signal
import sys
from types import FrameType

TOGGLE = signal.SIGRTMIN + 1


def main() -> None:
    stats_file = sys.argv[1]
    profiler = cProfile.Profile()
    running = False

    def toggle(signum: int, frame: FrameType | None) -> None:
        nonlocal running
        if running:
            profiler.disable()
            profiler.dump_stats(stats_file)
        else:
            profiler.enable()
        running = not running

    signal.signal(TOGGLE, toggle)

    from streams.settings import load_settings
    from streams.worker import run

    run(load_settings())


if __name__ == "__main__":
    main()
