-- One row per valid trace event. ReplacingMergeTree keyed by the producer's event_id (with
-- app and model, which a replay repeats verbatim) so a record delivered twice is one row as
-- any query with FINAL sees it; the newest ingest wins.
CREATE TABLE IF NOT EXISTS events
(
    event_id            String,
    timestamp           DateTime64(3, 'UTC'),
    ingested_at         DateTime64(3, 'UTC'),
    app                 LowCardinality(String),
    model               LowCardinality(String),
    environment         LowCardinality(String),
    provider            LowCardinality(String),
    source              LowCardinality(String),
    status              LowCardinality(String),
    error_type          LowCardinality(String),
    latency_ms          Float64,
    ttft_ms             Nullable(Float64),
    prompt_tokens       Nullable(UInt32),
    completion_tokens   Nullable(UInt32),
    total_tokens        Nullable(UInt32),
    output_tokens_per_s Nullable(Float64),
    cost_usd            Nullable(Float64),
    prompt              String,
    completion          String,
    prompt_template     String,
    prompt_version      LowCardinality(String),
    temperature         Nullable(Float32),
    conversation_id     String,
    trace_id            String,
    span_id             String,
    parent_span_id      String,
    chain_step          String,
    step_index          Nullable(UInt32),
    user_id             String,
    reference           String,
    metadata            Map(String, String)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (app, model, event_id)
