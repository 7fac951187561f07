"""What a scanner reports: a :class:`Finding` per value, overlaps resolved by priority, counts.

Shared by the PII and the secret scanners and by the redactor, which joins both scanners'
findings into one non-overlapping list.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected value.

    Attributes
    ----------
    type : str
        The value's type, e.g. ``"email"`` or ``"api_key"``.
    start, end : int
        Character offsets of the value in the scanned text (``text[start:end]``).
    text : str
        The matched value itself.
    """

    type: str
    start: int
    end: int
    text: str


def select_non_overlapping(candidates: Iterable[Finding]) -> list[Finding]:
    """Keep the first of any overlapping findings and return the survivors sorted by offset.

    Parameters
    ----------
    candidates : iterable of Finding
        Findings in priority order: earlier ones win over later ones they overlap.
    """
    # Comparing each candidate with every kept finding made a text with many findings (a 1 MB
    # record of e-mail addresses) take minutes; a bisection makes this O(n log n).
    kept: list[Finding] = []
    starts: list[int] = []
    for cand in candidates:
        if not _overlaps_kept(kept, starts, cand):
            at = bisect.bisect_right(starts, cand.start)
            starts.insert(at, cand.start)
            kept.insert(at, cand)
    return kept


def _overlaps_kept(kept: list[Finding], starts: list[int], cand: Finding) -> bool:
    """Whether ``cand`` overlaps a kept finding (``kept``: non-overlapping, in order of start,
    so its non-empty findings are in order of end too)."""
    j = bisect.bisect_left(starts, cand.end) - 1  # kept[:j + 1] start before cand ends
    while j >= 0:
        if kept[j].end > cand.start:
            return True
        if kept[j].start < kept[j].end:
            return False  # non-empty and over before cand starts: so is every one before it
        j -= 1
    return False


def count_by_type(findings: Iterable[Finding], types: Iterable[str]) -> dict[str, int]:
    """Number of findings per type, with a zero for every type in ``types``."""
    counts = dict.fromkeys(types, 0)
    for finding in findings:
        counts[finding.type] = counts.get(finding.type, 0) + 1
    return counts
