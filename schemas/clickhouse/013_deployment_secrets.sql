-- Secrets a deployment generates for itself, once, so that every worker and every restart
-- uses the same: the redaction salt that keys `hash` tags and user_id pseudonyms when none is
-- configured (streams.salt). Each worker that finds none inserts one and then reads back the
-- first written, so concurrent first starts agree. Never served through the query API.
CREATE TABLE IF NOT EXISTS deployment_secrets
(
    name       String,
    value      String,
    created_at DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = MergeTree
ORDER BY (name, created_at)
