-- The alert state machines of each stream key (JSON), saved after every closed window so a
-- restarted worker continues pending and firing alerts where they were.
CREATE TABLE IF NOT EXISTS alert_states
(
    stream     String,
    states     String,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY stream
