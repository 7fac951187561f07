-- Feedback joined to the trace it rates, so its rate is reported per window of the trace's
-- app, model and time (feedback may come hours after the call).
CREATE VIEW IF NOT EXISTS feedback_by_trace AS
SELECT
    f.event_id AS event_id,
    e.app AS app,
    e.model AS model,
    e.prompt_version AS prompt_version,
    e.timestamp AS timestamp,
    f.timestamp AS feedback_time,
    f.value AS value,
    f.value < 0 AS negative
FROM feedback AS f FINAL
INNER JOIN (SELECT event_id, app, model, prompt_version, timestamp FROM events FINAL) AS e
    ON f.event_id = e.event_id;
ALTER TABLE window_metrics ADD COLUMN IF NOT EXISTS feedback_events UInt32 DEFAULT 0;
ALTER TABLE window_metrics ADD COLUMN IF NOT EXISTS negative_feedback UInt32 DEFAULT 0;
ALTER TABLE window_metrics ADD COLUMN IF NOT EXISTS negative_feedback_rate Float64 DEFAULT 0;
