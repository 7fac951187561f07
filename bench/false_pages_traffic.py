"""The traffic and rules of ``bench/false_pages.py``: stream keys, stationary events from the
generator or human text, the injected shifts, and the rules file (defaults + legacy)."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from pathlib import Path
from pydoc_data.topics import topics
from typing import Any

import yaml

from streams.settings.alerting import DEFAULT_RULES
from streams.testing.generator import (
    APPS,
    DRIFT_TOPIC,
    MODELS,
    GeneratorConfig,
    TrafficGenerator,
    count_tokens,
    phrases,
)

WINDOW = 300  # seconds, the default window
START = datetime(2026, 3, 2, tzinfo=UTC)
LEGACY = "Legacy"

# The default rules before the false-page budget (git show d4e0684:streams/alerting/
# default_rules.yaml, without its comment header).
LEGACY_RULES = """
version: 1
defaults:
  for_windows: 2
  resolve_after_windows: 2
  labels:
    team: ml-platform
  annotations:
    dashboard_url: "http://localhost:3000/d/seismo-overview?var-app={app}&var-model={model}"
rules:
  - name: PromptEmbeddingDrift
    signal: {field: prompt, method: mmd, condition: drifted}
    severity: warning
    labels: {service: llm-gateway}
  - name: CompletionEmbeddingDrift
    signal: {field: completion, method: mmd}
    severity: warning
    labels: {service: llm-gateway}
  - name: LatencyDistributionShift
    signal: {field: latency_ms, method: latency_ms_ks}
    severity: warning
  - name: HighErrorRate
    signal: {metric: error_rate, op: ">", threshold: 0.05}
    severity: critical
    for_windows: 2
    resolve_after_windows: 3
  - name: SlowResponses
    signal: {metric: latency_p95, op: ">", threshold: 8000}
    severity: error
  - name: ToxicCompletions
    signal: {metric: toxicity_rate, op: ">", threshold: 0.01}
    severity: error
    for_windows: 1
  - name: PIILeakage
    signal: {metric: pii_rate, op: ">", threshold: 0.0}
    severity: critical
    for_windows: 1
    resolve_after_windows: 3
"""

# --shift: (what changes, generator options from the onset on, the rule that watches it).
INCIDENTS: tuple[tuple[str, dict[str, Any], str | None], ...] = (
    ("30 % of prompts on a new topic", {"drift_at": 0.0, "drift_fraction": 0.3},
     "PromptEmbeddingDrift"),
    ("10 % of prompts on a new topic", {"drift_at": 0.0, "drift_fraction": 0.1},
     "PromptEmbeddingDrift"),
    ("latency x 4", {"latency_spike_at": 0.0, "latency_spike_factor": 4.0},
     "LatencyDistributionShift"),
    ("latency x 1.5", {"latency_spike_at": 0.0, "latency_spike_factor": 1.5},
     "LatencyDistributionShift"),
    ("error rate 1 % -> 20 %", {"error_rate": 0.2}, "HighErrorRate"),
    ("error rate 1 % -> 5 %", {"error_rate": 0.05}, "HighErrorRate"),
    ("5 % toxic events", {"toxic_rate": 0.05}, "ToxicCompletions"),
    ("none (control)", {}, None),
)


def stream_keys(n: int) -> list[tuple[str, str]]:
    """The generator's own app x model pairs first, then the other pairs of its catalog."""
    own = [(name, model) for name, app in APPS.items() for model, _ in app.models]
    keys = own + [(a, m) for a in APPS for m in MODELS if (a, m) not in own]
    if not 1 <= n <= len(keys):
        raise SystemExit(f"--keys must be between 1 and {len(keys)}")
    return keys[:n]


def human_paragraphs() -> list[str]:
    """Paragraphs of 5-80 words of the Python language reference (``pydoc_data.topics``)."""
    paragraphs = (" ".join(p.split()) for text in topics.values()
                  for p in re.split(r"\n\s*\n", text))
    return [p for p in paragraphs if 5 <= len(p.split()) <= 80]


def humanise(event: dict[str, Any], rng: random.Random, pool: list[str]) -> None:
    """Human paragraphs for the prompt's user text and the answer, except where the texts carry
    an injected change (the drift topic, abuse) or a signal of their own (refusals)."""
    prompt = event["prompt"]
    user = prompt if isinstance(prompt, str) else prompt[-1]["content"]
    if event["metadata"]["topic"] == DRIFT_TOPIC.name or user.startswith(phrases.TOXIC_OPENERS):
        return
    if isinstance(prompt, str):
        event["prompt"] = rng.choice(pool)
    else:
        prompt[-1]["content"] = rng.choice(pool)  # the system prompt stays
    completion = event["completion"]
    if completion and completion not in phrases.REFUSALS + phrases.TOXIC_COMPLETIONS:
        event["completion"] = rng.choice(pool)
    event["prompt_tokens"] = count_tokens(event["prompt"])
    event["completion_tokens"] = count_tokens(event["completion"])


def key_events(seed: int, key: tuple[str, str], start: datetime, windows: int, per_window: int,
               pool: list[str] | None, **incident: Any) -> list[dict[str, Any]]:
    """``per_window`` events of one stream key in each of ``windows`` windows from ``start``."""
    app, model = key
    config = GeneratorConfig(seed=seed, start=start, events_per_second=per_window / WINDOW,
                             apps=(app,), **incident)
    rng = random.Random(seed)
    events = list(TrafficGenerator(config).events(windows * per_window))
    for event in events:
        event["model"], event["provider"] = model, MODELS[model].provider
        if pool is not None:
            humanise(event, rng, pool)
    return events


def rules_file(path: Path) -> Path:
    """The packaged defaults plus :data:`LEGACY_RULES` renamed, each with its old defaults
    spelled out (consecutive evidence: the combined file's defaults are the new ones)."""
    document = yaml.safe_load(DEFAULT_RULES.read_text())
    legacy = yaml.safe_load(LEGACY_RULES)
    for rule in legacy["rules"]:
        for name, value in legacy["defaults"].items():
            rule[name] = {**value, **rule.get(name, {})} if isinstance(value, dict) \
                else rule.get(name, value)
        rule["name"] = LEGACY + rule["name"]
        rule["evidence"] = "consecutive"
        document["rules"].append(rule)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return path
