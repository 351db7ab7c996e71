-- Outbox envelopes are kept as the exact JSON text the relay publishes: PostgreSQL no longer parses
-- each one into jsonb on insert and prints it back on every relay read, and the relay no longer
-- parses and re-serialises it in Node.
ALTER TABLE outbox ALTER COLUMN envelope TYPE text USING envelope::text;

-- The relay marks each gift's broadcast status right after its insert. Free space left on the page
-- lets that update be HOT (no new index entries); the default fillfactor of 100 leaves none.
ALTER TABLE gift_transactions SET (fillfactor = 80);
