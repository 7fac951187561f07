"""Freed heap goes back to the operating system when the worker asks (streams.heap)."""

from __future__ import annotations

import subprocess
import sys

# Fill the heap with objects too large for pymalloc (glibc serves them), free all but every
# 64th (so glibc cannot simply shrink the top of the heap), then print resident memory
# before and after the release.
PROGRAM = """
from pathlib import Path
from streams.heap import release_free_heap

def rss_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

blocks = [bytes(1000) + i.to_bytes(8, "little") for i in range(300_000)]
kept = blocks[::64]
del blocks
before = rss_mib()
released = release_free_heap()
print(before, rss_mib(), released, len(kept))
"""


def test_freed_heap_is_returned_to_the_os() -> None:
    out = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                         check=True).stdout.split()
    before, after, released = float(out[0]), float(out[1]), out[2] == "True"
    assert released
    # About 300 MiB were allocated and 98 % of it freed: most of it must leave the process.
    assert before - after > 150, f"RSS {before:.0f} -> {after:.0f} MiB"
