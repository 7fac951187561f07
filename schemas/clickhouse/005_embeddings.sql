-- The embedded sample: enough to pin baselines, cluster and draw projections later.
CREATE TABLE IF NOT EXISTS embeddings
(
    event_id       String,
    timestamp      DateTime64(3, 'UTC'),
    window_start   DateTime64(3, 'UTC'),
    app            LowCardinality(String),
    model          LowCardinality(String),
    prompt_version LowCardinality(String),
    field          LowCardinality(String),
    text           String,
    embedding      Array(Float32),
    ingested_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (app, model, field, event_id)
