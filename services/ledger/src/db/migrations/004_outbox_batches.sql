-- One outbox row per committed transaction instead of one per event. A batch of gifts wrote some 40
-- event rows (each with two index entries) and the relay rewrote every one of them to mark it
-- published; now the batch writes one row and the relay marks one row.
--
-- `events` holds the transaction's events in publish order, one per line:
--   event_id <TAB> room <TAB> type <TAB> envelope JSON
-- (ids and room names never hold a tab or a newline, and JSON.stringify escapes both).
CREATE TABLE outbox_batches (
  id            bigserial PRIMARY KEY,
  xid           xid8 NOT NULL DEFAULT pg_current_xact_id(),
  events        text NOT NULL,
  event_count   integer NOT NULL CHECK (event_count > 0),
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);
CREATE INDEX outbox_batches_pending ON outbox_batches (id) WHERE published_at IS NULL;

-- Whatever the old table still holds moves over in id order, one event per row: nothing committed
-- and unpublished is lost, and the order per room is kept.
INSERT INTO outbox_batches (xid, events, event_count, created_at, published_at)
SELECT xid, event_id || E'\t' || room || E'\t' || type || E'\t' || envelope, 1, created_at, published_at
FROM outbox ORDER BY id;
DROP TABLE outbox;

-- The per-event view of the outbox, for operators and tests: one row per event, in publish order.
CREATE VIEW outbox AS
SELECT b.id AS batch_id, e.ord AS position,
       split_part(e.line, E'\t', 1) AS event_id,
       split_part(e.line, E'\t', 2) AS room,
       split_part(e.line, E'\t', 3) AS type,
       split_part(e.line, E'\t', 4) AS envelope,
       b.xid, b.created_at, b.published_at
FROM outbox_batches b, LATERAL string_to_table(b.events, E'\n') WITH ORDINALITY AS e(line, ord);
