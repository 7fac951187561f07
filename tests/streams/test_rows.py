from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from detectors import Redactor
from schemas.events import TRACE_DECODER
from schemas.tables import EVENT_COLUMNS
from streams.decode import trace_decoder
from streams.pricing import PriceTable
from streams.rows import event_row
from streams.settings import DEFAULT_PRICES
from streams.signals import SignalScanner

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SCANNER = SignalScanner(Redactor("redact"))


def row_of(event, prices: PriceTable) -> dict:
    return dict(zip(EVENT_COLUMNS, event_row(event, NOW, prices, SCANNER.scan([event])[0]),
                    strict=True))


def decode(**fields) -> object:
    base = {
        "event_id": "e",
        "timestamp": "2026-03-01T11:59:00Z",
        "app": "a",
        "model": "gpt-4o-mini-2024-07-18",
        "latency_ms": 1000.0,
        "prompt": "p",
    }
    return TRACE_DECODER.decode(json.dumps({**base, **fields}).encode())


def test_derived_fields_and_dated_model_names_are_priced() -> None:
    event = decode(prompt_tokens=1000, completion_tokens=400, ttft_ms=200.0)
    row = row_of(event, PriceTable(DEFAULT_PRICES))
    assert row["total_tokens"] == 1400
    assert row["output_tokens_per_s"] == 400 / 0.8  # generation time excludes the first token
    price = DEFAULT_PRICES["gpt-4o-mini"]
    assert row["cost_usd"] == pytest.approx(price.input_per_1k + 0.4 * price.output_per_1k)
    assert row["status"] == "ok" and row["ingested_at"] == NOW


def test_unknown_model_has_no_cost_and_errors_are_marked() -> None:
    event = decode(model="in-house-7b", error_type="timeout", prompt_tokens=5)
    row = row_of(event, PriceTable({}))
    assert row["cost_usd"] is None and row["status"] == "error"
    assert row["output_tokens_per_s"] is None


def test_decoder_rejects_far_future_but_accepts_clock_skew() -> None:
    decoder = trace_decoder(max_bytes=10_000, max_future_skew_seconds=3600)
    raw = json.dumps(
        {
            "event_id": "e",
            "app": "a",
            "model": "m",
            "latency_ms": 1,
            "prompt": "p",
            "timestamp": (NOW + timedelta(minutes=30)).isoformat(),
        }
    ).encode()
    assert decoder(raw, NOW).event_id == "e"
    assert decoder(raw, NOW - timedelta(hours=2)).reason == "timestamp_in_future"


def test_secrets_and_pii_are_redacted_and_counted_before_storage() -> None:
    event = decode(prompt="mail me at ana.ruiz@example.org, key sk-proj-Q2x8Lm4Tz9Vb1Nc7Kd3Hs6Pf",
                   completion="You bloody idiot, I won't.")
    row = row_of(event, PriceTable({}))
    assert "ana.ruiz@example.org" not in row["prompt"] and "<EMAIL>" in row["prompt"]
    assert "sk-proj-" not in row["prompt"]
    assert row["pii_counts"] == {"email": 1} and row["secret_counts"] == {"api_key": 1}
    assert row["toxicity_completion"] > 0.5 and row["toxicity_prompt"] < 0.5
