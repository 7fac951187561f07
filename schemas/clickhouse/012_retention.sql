-- When each alert transition was stored: its retention counts from it (schemas/tables.py
-- RETENTION_COLUMNS), as the transition's own times are event times and a backfill would expire
-- on arrival. Rows stored before this column existed take the time of the first TTL pass.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS stored_at DateTime64(3, 'UTC') DEFAULT now64(3);
