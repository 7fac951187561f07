"""Per-event signals, on every event before anything is stored: redaction and counts of PII
and secrets, toxicity, refusals, prompt-injection score, and completion leaks.

A completion leak is a PII or secret value in the completion that the prompt does not hold:
users paste their own e-mail into a prompt and the model repeats it (no leak), but an address,
number or key the model produced from elsewhere (its context, retrieval, training data) is.

Every text field an app fills is redacted and counted, not only the prompt, completion and
reference: the labels and identifiers (:data:`TEXT_FIELDS`), metadata keys and values, and
``user_id``, which is stored as a keyed pseudonym instead (:meth:`Redactor.pseudonym`). Those
short values mostly repeat (app, model, environment, metadata), so a bounded map from value to
result keeps them cheap; ids that never repeat (trace and span ids, UUIDs) are told clean by
their shape (:meth:`Redactor.plain_identifier`) instead of a scan.

Toxicity is scored for a whole batch at once (the classifier is vectorised). The injection
score here is the pattern part of :class:`detectors.InjectionScorer`: embedding similarity to
known attacks needs an embedding of every prompt, which the bounded embedding budget does not
give, so per event Seismo keeps the pattern score.

Every signal is a function of its text alone, so texts that repeat (canned answers, refusals,
retried prompts) are scanned once: a bounded LRU cache per role holds the signals of recent
texts, and a batch scans each distinct text once. The results are the ones a fresh scan gives
(``tests/streams/ingest/test_rows.py`` compares them with the scanners called one text at a time).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Generic, TypeVar

from detectors import InjectionScorer, RefusalDetector, make_toxicity_scorer
from detectors.scanners.redaction import RedactionResult, Redactor
from schemas.events import TraceEvent

DEFAULT_CACHE_SIZE = 2048
"""Texts per role whose signals are kept (prompts and completions: two caches)."""
MAX_CACHED_CHARS = 2048
"""Longer texts are not cached: they rarely repeat. A cache holds each text as its key and,
where something was redacted, a second time as stored, so this bounds its memory at
``2 * size * MAX_CACHED_CHARS`` characters per role (about 1 MB per role on generated traffic,
where texts average 200-250 characters)."""
MAX_FIELD_VALUES = 8192
"""Distinct short field values whose redaction is kept (see :class:`FieldRedactor`)."""

# The fields besides prompt, completion, reference and metadata that an app fills with text,
# in the order of EventScan.fields. ``app`` and ``model`` are the stream key: they are
# redacted too, since a secret must not reach storage (or an alert) through any field; a key
# holding none, as every real one does, stays as it is, so windows and alerts keep their key.
TEXT_FIELDS = (
    "app", "model", "environment", "provider", "error_type", "prompt_template",
    "prompt_version", "conversation_id", "trace_id", "span_id", "parent_span_id", "chain_step",
)
_text_fields = attrgetter(*TEXT_FIELDS)


@dataclass(frozen=True, slots=True)
class EventScan:
    """What the scanners found in one event, and its texts as they may be stored: ``fields``
    are the :data:`TEXT_FIELDS` (``""`` where absent), ``user_id`` the pseudonym."""

    prompt: str
    completion: str
    reference: str
    fields: tuple[str, ...]
    metadata: dict[str, str]
    user_id: str
    toxicity_prompt: float
    toxicity_completion: float
    injection_score: float
    refusal: bool
    pii_counts: dict[str, int]
    secret_counts: dict[str, int]
    completion_leaks: int = 0
    embedded_prompt: str = ""  # the part of the prompt drift embeds, redacted like the prompt


@dataclass(frozen=True, slots=True)
class TextScan:
    """The signals of one prompt or completion: the text as stored, the types found in it
    (non-zero counts only), toxicity, and the role's own signal (injection score of a prompt,
    1.0 for a refusal of a completion), and the values found (raw, kept in memory only, to
    tell a completion's leaks from what its prompt held)."""

    text: str
    found: dict[str, int]
    toxicity: float
    flag: float
    values: tuple[str, ...] = ()

    @classmethod
    def of(cls, redaction: RedactionResult, toxicity: float, flag: float,
           values: tuple[str, ...] = ()) -> TextScan:
        found = {k: v for k, v in redaction.counts_by_type.items() if v}
        return cls(redaction.text, found, toxicity, flag, values)

    def leaks_from(self, prompt: str) -> int:
        """Distinct values found here that ``prompt`` (the raw text) does not contain."""
        return sum(1 for value in set(self.values) if value not in prompt)


_NO_TEXT = TextScan("", {}, 0.0, 0.0)
V = TypeVar("V")


class TextCache(Generic[V]):
    """A bounded map from text to what was computed from it; the least recently used goes.

    Not thread-safe: each scanner is used by one thread, the worker's event loop with
    ``ingest_processes=0`` or an ingest process's only thread (:mod:`streams.ingest.pool`),
    and every process has its own cache.

    Parameters
    ----------
    size : int
        Most texts kept (0 turns the cache off: every text is computed, each distinct one once
        per call).
    max_chars : int
        Longer texts are computed but not kept.
    """

    def __init__(self, size: int, max_chars: int = MAX_CACHED_CHARS) -> None:
        self.size = size
        self.max_chars = max_chars
        self._values: OrderedDict[str, V] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get_many(self, texts: Sequence[str], compute: Callable[[list[str]], list[V]]) -> list[V]:
        """The value of every text; ``compute`` gets each distinct uncached text once."""
        values = self._values
        out: list[V | None] = [None] * len(texts)
        missing: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            value = values.get(text)
            if value is None:
                missing.setdefault(text, []).append(i)
            else:
                values.move_to_end(text)
                out[i] = value
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            new = list(missing)
            for text, value in zip(new, compute(new), strict=True):
                for i in missing[text]:
                    out[i] = value
                if self.size and len(text) <= self.max_chars:
                    values[text] = value
            while len(values) > self.size:
                values.popitem(last=False)
        return out  # type: ignore[return-value]  # every slot is filled above


class FieldRedactor:
    """The policy over an event's short fields (:data:`TEXT_FIELDS`, metadata, ``user_id``),
    with each distinct value's result kept: most values repeat from event to event.

    The map is cleared when it holds ``size`` values: ids that never repeat fill it, and
    recomputing the few values that do costs less than an LRU's bookkeeping on every lookup.
    """

    def __init__(self, redactor: Redactor, size: int = MAX_FIELD_VALUES) -> None:
        self.redactor = redactor
        self.size = size
        self._values: dict[str, tuple[str, dict[str, int]]] = {}
        self._users: dict[str, str] = {}

    def value(self, text: str) -> tuple[str, dict[str, int]]:
        """The value as stored and the types found in it (non-zero counts only)."""
        known = self._values.get(text)
        if known is not None:
            return known
        if self.redactor.plain_identifier(text):
            # A trace or span id, a UUID: nothing to find, told by its shape (a scan of a trace
            # id costs about 10 µs, this 0.3). Not kept: such ids rarely repeat, and would push
            # out the values that do.
            return text, {}
        findings = self.redactor.scan(text)
        if findings:
            result = self.redactor.apply_findings(text, findings)
            known = result.text, {k: v for k, v in result.counts_by_type.items() if v}
        else:
            known = text, {}
        if len(self._values) >= self.size:
            self._values.clear()
        if len(text) <= MAX_CACHED_CHARS:
            self._values[text] = known
        return known

    def user(self, user_id: str) -> str:
        known = self._users.get(user_id)
        if known is None:
            known = self.redactor.pseudonym(user_id)
            if len(self._users) >= self.size:
                self._users.clear()
            self._users[user_id] = known
        return known

    def fields(self, event: TraceEvent, found: list[dict[str, int]]
               ) -> tuple[tuple[str, ...], dict[str, str]]:
        """The event's :data:`TEXT_FIELDS` and metadata as stored; the types found in them are
        appended to ``found``."""
        value = self.value
        stored = []
        for text in _text_fields(event):
            if text:
                text, types = value(text)
                if types:
                    found.append(types)
            stored.append(text or "")
        metadata = event.metadata_strings()
        if metadata:
            redacted = {}
            for key, text in metadata.items():
                key, key_types = value(key)
                text, types = value(text)
                if key_types:
                    found.append(key_types)
                if types:
                    found.append(types)
                redacted[key] = text
            metadata = redacted
        return tuple(stored), metadata


class EventScanner:
    def __init__(
        self, redactor: Redactor, toxicity_model_dir: str = "",
        cache_size: int = DEFAULT_CACHE_SIZE, embedded_prompt: str = "last_user",
    ) -> None:
        self.redactor = redactor
        self.embedded_prompt = embedded_prompt
        self.toxicity = make_toxicity_scorer(toxicity_model_dir or None)
        self.refusals = RefusalDetector()
        self.injection = InjectionScorer(None)
        self._secret_types = set(redactor.secrets.types)
        self.prompts: TextCache[TextScan] = TextCache(cache_size)
        self.completions: TextCache[TextScan] = TextCache(cache_size)
        self.fields = FieldRedactor(redactor)

    def _split(self, found: Sequence[dict[str, int]]) -> tuple[dict[str, int], dict[str, int]]:
        """PII and secret counts summed over the texts' non-zero counts."""
        counts: dict[str, int] = {}
        for text_found in found:
            for k, v in text_found.items():
                counts[k] = counts.get(k, 0) + v
        pii = {k: v for k, v in counts.items() if k not in self._secret_types}
        secrets = {k: v for k, v in counts.items() if k in self._secret_types}
        return pii, secrets

    def text_signals(self, text: str, toxicity: float, flag: float) -> TextScan:
        """The redacted text and its findings, with signals computed elsewhere."""
        findings = self.redactor.scan(text)
        if not findings:  # most texts: nothing to redact and no counts to build (~2 µs)
            return TextScan(text, {}, toxicity, flag)
        return TextScan.of(self.redactor.apply_findings(text, findings), toxicity, flag,
                           tuple(f.text for f in findings))

    def _scan_prompts(self, texts: list[str]) -> list[TextScan]:
        toxic = self.toxicity.score_many(texts)
        injections = self.injection.score_many(texts)
        return [self.text_signals(t, float(x), float(i.score))
                for t, x, i in zip(texts, toxic, injections, strict=True)]

    def _scan_completions(self, texts: list[str]) -> list[TextScan]:
        toxic = self.toxicity.score_many(texts)
        refusal = self.refusals.is_refusal
        return [self.text_signals(t, float(x), float(refusal(t)))
                for t, x in zip(texts, toxic, strict=True)]

    def _embedded(self, event: TraceEvent, prompt_text: str, redacted: str) -> str:
        """The redacted text drift embeds: the whole prompt's when the selection is all of it
        (a plain string, one message), else the selected messages redacted on their own."""
        if self.embedded_prompt == "all" or isinstance(event.prompt, str):
            return redacted  # the hot path's usual case: no second join or scan
        selected = event.prompt_text(self.embedded_prompt)
        if selected == prompt_text:
            return redacted
        return self.text_signals(selected, 0.0, 0.0).text

    def scan(self, events: Sequence[TraceEvent]) -> list[EventScan]:
        prompt_texts = [e.prompt_text() for e in events]
        prompts = self.prompts.get_many(prompt_texts, self._scan_prompts)
        completions = self.completions.get_many([e.completion or "" for e in events],
                                                self._scan_completions)
        out = []
        redact_fields, user = self.fields.fields, self.fields.user
        for event, prompt_text, prompt, completion in zip(events, prompt_texts, prompts,
                                                          completions, strict=True):
            # Most events carry no reference: skip the scan of an empty text (~3 % of the path).
            reference = (self.text_signals(event.reference, 0.0, 0.0)
                         if event.reference else _NO_TEXT)
            found = [f for f in (prompt.found, completion.found, reference.found) if f]
            fields, metadata = redact_fields(event, found)
            # Most events hold no finding: no counts to add up.
            pii, secrets = self._split(found) if found else ({}, {})
            out.append(EventScan(
                prompt.text, completion.text, reference.text, fields, metadata,
                user(event.user_id) if event.user_id else "",
                prompt.toxicity, completion.toxicity if event.completion else 0.0,
                prompt.flag, bool(completion.flag), pii, secrets,
                completion.leaks_from(prompt_text) if completion.values else 0,
                self._embedded(event, prompt_text, prompt.text),
            ))
        return out
