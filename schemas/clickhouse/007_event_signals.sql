-- Per-event scores of the signal detectors, as columns of events.
ALTER TABLE events ADD COLUMN IF NOT EXISTS toxicity_prompt Float32 DEFAULT 0;
ALTER TABLE events ADD COLUMN IF NOT EXISTS toxicity_completion Float32 DEFAULT 0;
ALTER TABLE events ADD COLUMN IF NOT EXISTS injection_score Float32 DEFAULT 0;
ALTER TABLE events ADD COLUMN IF NOT EXISTS refusal Bool DEFAULT false;
ALTER TABLE events ADD COLUMN IF NOT EXISTS pii_counts Map(String, UInt32);
ALTER TABLE events ADD COLUMN IF NOT EXISTS secret_counts Map(String, UInt32);
