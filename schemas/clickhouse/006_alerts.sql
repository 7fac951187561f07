-- Alert transitions (pending → firing → resolved), one row each; transition_id is unique per
-- transition so a replayed transition is one row with FINAL.
CREATE TABLE IF NOT EXISTS alerts
(
    transition_id  String,
    fingerprint    String,
    rule           LowCardinality(String),
    state          LowCardinality(String),
    severity       LowCardinality(String),
    app            LowCardinality(String),
    model          LowCardinality(String),
    value          Float64,
    window_start   DateTime64(3, 'UTC'),
    window_end     DateTime64(3, 'UTC'),
    starts_at      DateTime64(3, 'UTC'),
    ends_at        Nullable(DateTime64(3, 'UTC')),
    transition_at  DateTime64(3, 'UTC'),
    labels         Map(String, String),
    annotations    Map(String, String)
)
ENGINE = ReplacingMergeTree(transition_at)
PARTITION BY toYYYYMM(transition_at)
ORDER BY (fingerprint, transition_id)
