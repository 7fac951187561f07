"""Per-event scanners: PII, secrets, redaction, toxicity, refusal, prompt injection."""
