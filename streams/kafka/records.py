"""The part of a Kafka record the pipeline needs, independent of the consumer library.

A structural type: aiokafka's ``ConsumerRecord`` (what the ingest consumer hands over, with
no copy per record) has every one of these attributes, as would another client's record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Record(Protocol):
    @property
    def value(self) -> bytes | None: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...
