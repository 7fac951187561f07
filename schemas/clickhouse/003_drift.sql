-- Every detector result per window and stream key: embedding drift (field prompt|completion,
-- methods mmd, centroid_*) and the per-window change tests of the signals (field latency_ms,
-- toxicity, error_rate ...). Keyed by window and method, so a window recomputed after a
-- restart replaces its row instead of repeating it.
CREATE TABLE IF NOT EXISTS drift
(
    window_start     DateTime64(3, 'UTC'),
    window_end       DateTime64(3, 'UTC'),
    app              LowCardinality(String),
    model            LowCardinality(String),
    prompt_version   LowCardinality(String),
    field            LowCardinality(String),
    method           LowCardinality(String),
    statistic        Float64,
    p_value          Float64,
    threshold        Float64,
    drifted          Bool,
    n_ref            UInt32,
    n_test           UInt32,
    alpha            Float64,
    n_events         UInt32,
    sampled_fraction Float64,
    params           String,
    computed_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (app, model, prompt_version, field, method, window_start)
