"""Kafka: topic administration, the ingest consumer, consumer lag and progress, the local broker."""
