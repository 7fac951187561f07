"""Ingestion: Kafka records to validated, scanned, redacted ClickHouse rows (or dead letters)."""
