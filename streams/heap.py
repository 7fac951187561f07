"""Keep glibc's heap from holding on to what closing windows freed (glibc only).

Closing a window allocates and frees hundreds of megabytes on three threads: torch's
activations for batches of every length, ClickHouse result columns, permutation matrices.
Left to itself glibc serves such blocks from ``mmap`` only until the first one is freed: it
then raises its mmap threshold to that block's size (up to 32 MiB), so from then on every
transient buffer below it comes from the heap. With sizes that never repeat exactly, the
freed pieces rarely fit the next request and the heap only grows: +25 % RSS in the soak's
seven minutes after warm-up, of which ``malloc_trim(0)`` on the running worker gave back
345 MiB at once (retained free memory, not live objects).

:func:`tune_malloc` fixes the threshold where glibc starts (128 KiB), which turns the dynamic
raise off: a large block is mapped for its request and unmapped when freed, and the heap keeps
only small objects. It also caps the arenas, each of which keeps freed memory of its own.
:func:`release_free_heap` returns what the heap still keeps free after a burst of closes.

On a libc without ``mallopt``/``malloc_trim`` (musl, macOS) these calls do nothing.

:func:`freeze_startup_objects` is the Python side of the same concern: what start-up built.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any

# mallopt's parameter numbers (malloc.h).
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

# glibc's own initial threshold: blocks this large are few and big, so one mmap each costs
# little next to filling them (bench/heap.py prices it).
MMAP_THRESHOLD_BYTES = 128 * 1024


@cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def tune_malloc(arenas: int = 2, mmap_threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix the mmap threshold and cap the arenas; call before threads start. False where
    unsupported."""
    libc = _libc()
    return bool(
        libc is not None
        and libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)
        and libc.mallopt(M_ARENA_MAX, arenas)
    )


def release_free_heap() -> bool:
    """Return free heap pages to the OS; True if any were released."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))


def freeze_startup_objects() -> int:
    """Move every object alive now out of the cyclic collector's reach; returns how many.

    Start-up leaves a hundred thousand or more tracked objects that live as long as the
    process (modules, the toxicity model, settings). Ingest allocates container objects for
    every record, so the collector runs often, and each oldest-generation pass walks all of
    them to free nothing: an ingest process's loop (unpickle a batch, prepare it, pickle the
    answer) took 8 % more CPU without the freeze than with it, timed alternately in one
    process. Frozen, they are never walked; objects made later are collected as before, and
    frozen ones are still freed by reference counting.
    """
    gc.collect()  # start-up's own garbage goes first, not into the frozen set
    gc.freeze()
    return gc.get_freeze_count()
