-- Completion leaks (streams/ingest/scan.py): PII or secret values in a completion that its
-- prompt does not hold, per event, and the share of a window's events with one. Rows stored
-- before count none.
ALTER TABLE events ADD COLUMN IF NOT EXISTS completion_leaks UInt16 DEFAULT 0;
ALTER TABLE window_metrics ADD COLUMN IF NOT EXISTS leak_events UInt32 DEFAULT 0;
ALTER TABLE window_metrics ADD COLUMN IF NOT EXISTS leak_rate Float64 DEFAULT 0;
