"""Per-event signals, on every event before anything is stored: redaction and counts of PII
and secrets, toxicity, refusals, prompt-injection score.

Toxicity is scored for a whole batch at once (the classifier is vectorised). The injection
score here is the pattern part of :class:`detectors.InjectionScorer`: embedding similarity to
known attacks needs an embedding of every prompt, which the bounded embedding budget does not
give, so per event Seismo keeps the pattern score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from detectors import InjectionScorer, RefusalDetector, make_toxicity_scorer
from detectors.redaction import RedactionResult, Redactor
from schemas.events import TraceEvent

EMPTY = RedactionResult("", {})


@dataclass(frozen=True, slots=True)
class EventSignals:
    """What the scanners found in one event, and its texts as they may be stored."""

    prompt: str
    completion: str
    reference: str
    toxicity_prompt: float
    toxicity_completion: float
    injection_score: float
    refusal: bool
    pii_counts: dict[str, int]
    secret_counts: dict[str, int]


class SignalScanner:
    def __init__(self, redactor: Redactor, toxicity_model_dir: str = "") -> None:
        self.redactor = redactor
        self.toxicity = make_toxicity_scorer(toxicity_model_dir or None)
        self.refusals = RefusalDetector()
        self.injection = InjectionScorer(None)
        self._secret_types = set(redactor.secrets.types)

    def _split(self, counts: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
        pii = {k: v for k, v in counts.items() if v and k not in self._secret_types}
        secrets = {k: v for k, v in counts.items() if v and k in self._secret_types}
        return pii, secrets

    def scan(self, events: Sequence[TraceEvent]) -> list[EventSignals]:
        prompts = [e.prompt_text() for e in events]
        completions = [e.completion or "" for e in events]
        toxic = self.toxicity.score_many(prompts + completions)
        injections = self.injection.score_many(prompts)
        out = []
        for i, event in enumerate(events):
            prompt = self.redactor.apply(prompts[i])
            completion = self.redactor.apply(completions[i])
            # Most events carry no reference: skip the scan of an empty text (~3 % of the path).
            reference = self.redactor.apply(event.reference) if event.reference else EMPTY
            counts = {k: prompt.counts_by_type.get(k, 0) + completion.counts_by_type.get(k, 0)
                      + reference.counts_by_type.get(k, 0)
                      for k in {*prompt.counts_by_type, *completion.counts_by_type}}
            pii, secrets = self._split(counts)
            out.append(EventSignals(
                prompt.text, completion.text, reference.text,
                float(toxic[i]), float(toxic[len(events) + i]) if completions[i] else 0.0,
                float(injections[i].score), self.refusals.is_refusal(completions[i]), pii,
                secrets,
            ))
        return out
