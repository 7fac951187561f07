-- Pinned drift baselines (`seismo baseline pin`): the newest pin per stream key wins.
CREATE TABLE IF NOT EXISTS baselines
(
    app            LowCardinality(String),
    model          LowCardinality(String),
    prompt_version LowCardinality(String),
    range_from     DateTime64(3, 'UTC'),
    range_to       DateTime64(3, 'UTC'),
    pinned_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(pinned_at)
ORDER BY (app, model, prompt_version)
