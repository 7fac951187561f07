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


# A freed 16 MiB buffer makes glibc serve every later block up to that size from the heap;
# then a window close's worth of transient 1-5 MB buffers, with small objects that outlive
# them allocated in between, the way the window job's threads interleave.
TRANSIENTS = """
import sys
from pathlib import Path
from streams.heap import tune_malloc

def rss_mib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

if sys.argv[1] == "tuned":
    assert tune_malloc()
big = b"x" * (16 << 20)
del big
before = rss_mib()
kept, blocks = [], []
for i in range(64):
    blocks.append(b"x" * ((1 + i % 5) * 1_000_000 + i))
    kept.append(bytes(2000) + bytes([i]))
    if len(blocks) > 8:
        blocks.pop(0)
blocks.clear()
print(before, rss_mib(), len(kept))
"""


def test_transient_buffers_leave_the_process_when_freed_once_malloc_is_tuned() -> None:
    out = subprocess.run([sys.executable, "-c", TRANSIENTS, "tuned"], capture_output=True,
                         text=True, check=True).stdout.split()
    before, after = float(out[0]), float(out[1])
    # Up to 8 buffers of 1-5 MB were alive at once; none of them may stay resident.
    assert after - before < 4, f"RSS {before:.0f} -> {after:.0f} MiB"


# Start-up's objects frozen: a full collection walks only what came after, and still frees a
# reference cycle made after the freeze.
FREEZE = """
import gc
from streams.heap import freeze_startup_objects
import streams.ingest.prepare  # a share of what a worker's start-up loads
frozen = freeze_startup_objects()
walked = len(gc.get_objects())

class Node:
    pass

node = Node()
node.self = node
del node
print(frozen, walked, gc.collect())
"""


def test_frozen_start_up_is_not_walked_and_later_cycles_are_still_freed() -> None:
    out = subprocess.run([sys.executable, "-c", FREEZE], capture_output=True, text=True,
                         check=True).stdout.split()
    frozen, walked, freed = (int(x) for x in out)
    assert frozen > 10_000 and walked < frozen / 100, (frozen, walked)
    assert freed >= 1  # the cycle (the node and its __dict__), found by the collector
