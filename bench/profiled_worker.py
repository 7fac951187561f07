"""``seismo worker`` with pyinstrument switched on and off by signals, for ``throughput.py``.

Run: ``python bench/profiled_worker.py SESSION_FILE`` with the usual ``SEISMO_*`` environment.
The first :data:`TOGGLE` signal starts profiling the event-loop thread, the second stops it and
writes ``SESSION_FILE``, so the profile covers consumption only, not imports and start-up.
(mode's worker takes SIGUSR1 for task tracebacks and SIGUSR2 for pdb, hence a real-time
signal.) pyinstrument samples the stack every millisecond rather than hooking every call as
cProfile does, so the many small calls of the per-event path are not inflated; its times are
wall-clock, so the loop's idle time shows as ``select``. :func:`print_profile` summarises the
session by package and by function. With ``ingest_processes`` > 0 the decoding and scanning run
in the worker's ingest processes, which are not profiled: the event loop's profile then shows
the rest of the path (fetch, hand-over, insert, commit) and its waits for them.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType

from common import ROOT

TOGGLE = signal.SIGRTMIN + 1


def main() -> None:
    from pyinstrument import Profiler

    session_file = sys.argv[1]
    profiler = Profiler(interval=0.001, async_mode="disabled")

    def toggle(signum: int, frame: FrameType | None) -> None:
        if profiler.is_running:
            # Written aside, then renamed: the file's appearance says it is complete.
            profiler.stop().save(session_file + ".part")
            os.replace(session_file + ".part", session_file)
        else:
            profiler.start()

    signal.signal(TOGGLE, toggle)

    from streams.service.worker import run
    from streams.settings import load_settings

    run(load_settings())


def print_profile(path: Path, top: int) -> None:
    """The worker's hottest functions (own time, with the time below them) and own time per
    package, from a saved pyinstrument session."""
    from pyinstrument.session import Session

    root = Session.load(path).root_frame()
    if root is None:
        print("\nworker profile: no samples")
        return
    own: dict[tuple[str, str, int], float] = {}
    below: dict[tuple[str, str, int], float] = {}
    areas: dict[str, float] = {}
    stack = [root]
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if frame.is_synthetic:
            continue
        key = (frame.file_path or "~", frame.function, frame.line_no or 0)
        own[key] = own.get(key, 0.0) + frame.total_self_time
        below[key] = below.get(key, 0.0) + frame.time  # a recursive function counts twice
        area = _area(key[0])
        areas[area] = areas.get(area, 0.0) + frame.total_self_time
    total = root.time
    print(f"\nworker profile (event-loop thread, {total:.1f} s sampled, wall-clock)")
    for area, seconds in sorted(areas.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {seconds / total:6.1%}  {area}")
    print(f"top {top} functions by own time:")
    for key, seconds in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        filename, name, line = key
        where = filename.replace(str(Path(sys.prefix)), "<venv>").replace(str(ROOT), ".")
        print(f"  {seconds / total:6.1%}  own {seconds:6.2f} s  cum {below[key]:6.2f} s  "
              f"{name}  {where}:{line}")


def _area(filename: str) -> str:
    """A package-level name for a profiled function's file."""
    if filename.startswith("<") or filename == "~":
        return "builtins and C code (regex, msgspec, sockets, …)"
    path = Path(filename)
    if path.is_relative_to(ROOT) and ".venv" not in path.parts:
        rest = path.relative_to(ROOT).parts
        return "/".join(rest[:2]) if rest[0] == "detectors" else f"{rest[0]}/…"
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1]
    return "python stdlib"


if __name__ == "__main__":
    main()
