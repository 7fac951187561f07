"""``seismo worker`` with cProfile switched on and off by signals, for ``throughput.py``.

Run: ``python bench/profiled_worker.py STATS_FILE`` with the usual ``SEISMO_*`` environment.
The first :data:`TOGGLE` signal starts profiling the event-loop thread, the second stops it and
writes ``STATS_FILE``, so the profile covers consumption only, not imports and start-up. (mode's
worker takes SIGUSR1 for task tracebacks and SIGUSR2 for pdb, hence a real-time signal.)
:func:`print_profile` summarises the file by package and by function.
"""

from __future__ import annotations

import cProfile
import pstats
import signal
import sys
from pathlib import Path
from types import FrameType

from common import ROOT

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


def print_profile(path: Path, top: int) -> None:
    """The worker's hottest functions (own time) and time per package (cumulative)."""
    stats = pstats.Stats(str(path))
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in entries.values())
    areas: dict[str, float] = {}
    for (filename, _, _), (_, _, tt, _, _) in entries.items():
        area = _area(filename)
        areas[area] = areas.get(area, 0.0) + tt
    print(f"\nworker profile (event-loop thread, {total:.1f} s of own time in Python functions)")
    for area, seconds in sorted(areas.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {seconds / total:6.1%}  {area}")
    print(f"top {top} functions by own time:")
    ranked = sorted(entries.items(), key=lambda kv: -kv[1][2])[:top]
    for (filename, line, name), (_, calls, tt, ct, _) in ranked:
        where = filename.replace(str(Path(sys.prefix)), "<venv>").replace(str(Path.cwd()), ".")
        print(f"  {tt / total:6.1%}  own {tt:6.2f} s  cum {ct:6.2f} s  {calls:>9} calls  "
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
