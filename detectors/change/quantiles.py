"""Mergeable quantile sketch for per-window latency, token and cost summaries.

A thin wrapper around :class:`ddsketch.DDSketch` (relative accuracy 1 % by default) that adds
what a streaming window needs: merge, a plain-dict / bytes form that a Faust table and its
changelog can store, and the quantiles Seismo reports (p50, p90, p95, p99).

The accuracy guarantee is DDSketch's: every reported quantile lies within
``relative_accuracy`` of the exact order statistic at rank ``floor(q * (n - 1))`` (numpy's
``method="lower"``), whatever the number of values, and merging sketches loses nothing: the
merge of two sketches has the same bins as the sketch of the union.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import msgspec
import numpy as np
from ddsketch import DDSketch
from numpy.typing import ArrayLike, NDArray

__all__ = ["DEFAULT_QUANTILES", "QuantileSketch", "finite_values", "quantile_label"]

#: The quantiles written to ``window_metrics`` for every numeric signal.
DEFAULT_QUANTILES: tuple[float, ...] = (0.5, 0.9, 0.95, 0.99)

# Bumped whenever the dict layout changes, so stored window state from an older worker is
# rejected with a clear error instead of being misread.
_FORMAT_VERSION = 1


def quantile_label(q: float) -> str:
    """Column-style name of a quantile level: ``0.95 -> "p95"``, ``0.999 -> "p99.9"``."""
    return f"p{100.0 * q:g}"


def finite_values(name: str, values: ArrayLike) -> NDArray[np.float64]:
    """``values`` as a finite 1-D float64 array; ``ValueError`` naming ``name`` otherwise."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of numbers: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


class QuantileSketch:
    """Quantiles of a stream of values with bounded relative error, mergeable and serialisable.

    Parameters
    ----------
    relative_accuracy : float
        Guaranteed relative error of every quantile, in (0, 1). Memory grows with
        ``log(max / min) / relative_accuracy`` bins: about 2 kB covers 1 ms to 1 min at 2 %.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(7)
    >>> latencies = rng.lognormal(mean=6.0, sigma=0.7, size=10_000)
    >>> sketch = QuantileSketch()
    >>> sketch.update(latencies)
    >>> exact = np.quantile(latencies, 0.95, method="lower")
    >>> bool(abs(sketch.quantile(0.95) / exact - 1) <= 0.01)
    True
    >>> restored = QuantileSketch.from_bytes(sketch.to_bytes())
    >>> restored.count, restored.quantile(0.95) == sketch.quantile(0.95)
    (10000, True)
    """

    def __init__(self, relative_accuracy: float = 0.01) -> None:
        if (
            isinstance(relative_accuracy, bool)
            or not isinstance(relative_accuracy, numbers.Real)
            or not 0.0 < relative_accuracy < 1.0
        ):
            raise ValueError(
                f"relative_accuracy must be a number in (0, 1), got {relative_accuracy!r}"
            )
        self.relative_accuracy = float(relative_accuracy)
        self._reset()

    def _reset(self) -> None:
        self._sketch = DDSketch(self.relative_accuracy)

    # -- ingest -----------------------------------------------------------------------------

    def add(self, value: float) -> None:
        """Add one value (finite; zero and negative values are kept exactly as such)."""
        if not math.isfinite(value):
            raise ValueError(f"value must be finite, got {value!r}")
        self._sketch.add(float(value))

    def update(self, values: ArrayLike | Iterable[float]) -> None:
        """Add every value of a 1-D array (checked as a whole before anything is added)."""
        for value in finite_values("values", values).tolist():
            self._sketch.add(value)

    def merge(self, other: QuantileSketch) -> None:
        """Fold ``other`` into this sketch, in place, as if its values had been added here."""
        if not isinstance(other, QuantileSketch):
            raise TypeError(f"other must be a QuantileSketch, got {type(other).__name__}")
        if other.relative_accuracy != self.relative_accuracy:
            raise ValueError(
                "other has relative_accuracy "
                f"{other.relative_accuracy}, this sketch {self.relative_accuracy}: "
                "only sketches with equal accuracy can be merged"
            )
        self._sketch.merge(other._sketch)

    # -- read -------------------------------------------------------------------------------

    @property
    def count(self) -> int:
        """Number of values added."""
        return int(self._sketch.count)

    @property
    def sum(self) -> float:
        """Exact sum of the values added (0.0 when empty)."""
        return float(self._sketch.sum)

    @property
    def mean(self) -> float:
        """Exact mean of the values added (``nan`` when empty)."""
        return self.sum / self.count if self.count else math.nan

    @property
    def min(self) -> float:
        """Exact minimum (``nan`` when empty)."""
        return float(self._sketch._min) if self.count else math.nan

    @property
    def max(self) -> float:
        """Exact maximum (``nan`` when empty)."""
        return float(self._sketch._max) if self.count else math.nan

    def quantile(self, q: float) -> float:
        """Value at quantile ``q`` in [0, 1], within the relative accuracy; ``nan`` when empty."""
        if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0.0 <= q <= 1.0:
            raise ValueError(f"q must be a number in [0, 1], got {q!r}")
        value = self._sketch.get_quantile_value(float(q))
        return math.nan if value is None else float(value)

    def quantiles(self, levels: Iterable[float] = DEFAULT_QUANTILES) -> dict[str, float]:
        """Quantiles keyed by label, e.g. ``{"p50": ..., "p90": ..., "p95": ..., "p99": ...}``."""
        return {quantile_label(q): self.quantile(q) for q in levels}

    # -- storage ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-safe dict of the full state (bins, count, sum, min, max).

        Only the occupied key range of each bin store is kept, so the size is that of the
        sketch, not of the values. Empty min/max are ``None`` because JSON has no infinity.
        """
        sk = self._sketch
        empty = self.count == 0
        return {
            "version": _FORMAT_VERSION,
            "relative_accuracy": self.relative_accuracy,
            "count": float(sk.count),
            "sum": float(sk.sum),
            "min": None if empty else float(sk._min),
            "max": None if empty else float(sk._max),
            "zero_count": float(sk._zero_count),
            "positive": _store_to_dict(sk._store),
            "negative": _store_to_dict(sk._negative_store),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> QuantileSketch:
        """Rebuild a sketch from :meth:`to_dict` output; ``ValueError`` on a malformed dict."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict, got {type(state).__name__}")
        if state.get("version") != _FORMAT_VERSION:
            raise ValueError(
                f"state has format version {state.get('version')!r}, expected {_FORMAT_VERSION}"
            )
        try:
            new = cls(state["relative_accuracy"])
            sk = new._sketch
            # ddsketch has no public way to restore bins (its protobuf codec needs protobuf
            # and drops min/max/sum), so the documented store attributes are set directly.
            _store_from_dict(sk._store, state["positive"])
            _store_from_dict(sk._negative_store, state["negative"])
            sk._zero_count = float(state["zero_count"])
            sk._count = float(state["count"])
            sk._sum = float(state["sum"])
            if sk._count:
                sk._min = float(state["min"])
                sk._max = float(state["max"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"state is not a QuantileSketch dict: {exc!r}") from None
        stored = sk._store.count + sk._negative_store.count + sk._zero_count
        if not math.isclose(stored, sk._count, rel_tol=1e-9, abs_tol=1e-9):
            raise ValueError(f"state has count {sk._count} but its bins hold {stored}")
        return new

    def to_bytes(self) -> bytes:
        """Compact binary form (MessagePack of :meth:`to_dict`)."""
        return msgspec.msgpack.encode(self.to_dict())

    @classmethod
    def from_bytes(cls, data: bytes) -> QuantileSketch:
        """Rebuild a sketch from :meth:`to_bytes` output."""
        try:
            state = msgspec.msgpack.decode(data)
        except msgspec.DecodeError as exc:
            raise ValueError(f"data is not a serialised QuantileSketch: {exc}") from None
        return cls.from_dict(state)

    # Pickle through the dict form: smaller than ddsketch's object graph and version-checked.
    def __getstate__(self) -> dict[str, Any]:
        return self.to_dict()

    def __setstate__(self, state: dict[str, Any]) -> None:
        restored = type(self).from_dict(state)
        self.relative_accuracy = restored.relative_accuracy
        self._sketch = restored._sketch

    def __repr__(self) -> str:
        return (
            f"QuantileSketch(relative_accuracy={self.relative_accuracy}, count={self.count}, "
            f"p50={self.quantile(0.5):.6g}, p99={self.quantile(0.99):.6g})"
        )


def _store_to_dict(store: Any) -> dict[str, Any]:
    """Occupied bins of a ddsketch ``DenseStore`` as ``{"offset": first key, "counts": [...]}``."""
    if store.count == 0:
        return {"offset": 0, "counts": []}
    lo = store.min_key - store.offset
    hi = store.max_key - store.offset + 1
    return {"offset": int(store.min_key), "counts": [float(c) for c in store.bins[lo:hi]]}


def _store_from_dict(store: Any, state: dict[str, Any]) -> None:
    key = int(state["offset"])
    for count in state["counts"]:
        if count < 0:
            raise ValueError(f"state has a negative bin count {count!r}")
        if count > 0:
            store.add(key, float(count))
        key += 1
