-- What prompt drift embeds (prompt_embedding_text, streams/ingest/scan.py): by default the last
-- user message, redacted like the prompt, so a system prompt does not dilute what users ask.
-- Rows stored before read their whole prompt.
ALTER TABLE events ADD COLUMN IF NOT EXISTS embedded_prompt String DEFAULT prompt;
