-- User feedback on a trace, possibly hours after it. Keyed by the rated event_id and the
-- feedback's own timestamp, so a replayed feedback record is one row with FINAL.
CREATE TABLE IF NOT EXISTS feedback
(
    event_id    String,
    timestamp   DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC'),
    value       Float32,
    score       Nullable(Float32),
    thumb       LowCardinality(String),
    comment     String,
    source      LowCardinality(String)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (event_id, timestamp)
