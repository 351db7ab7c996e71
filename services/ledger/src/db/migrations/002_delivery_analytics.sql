-- Delivery analytics reported by edges (the seed's websocket_events and gift_animation_plays).
-- One websocket_events row per event, room and edge; a statistic, never money.
CREATE TABLE websocket_events (
  id                  bigserial PRIMARY KEY,
  event_id            text NOT NULL,
  event_type          text NOT NULL,
  room_id             text NOT NULL,
  server_id           text NOT NULL,
  recipient_count     integer NOT NULL DEFAULT 0,
  broadcast_at        timestamptz NOT NULL,
  processing_time_ms  integer,
  status              text NOT NULL DEFAULT 'sent'
);
CREATE INDEX websocket_events_room ON websocket_events (room_id, broadcast_at DESC);
CREATE INDEX websocket_events_event ON websocket_events (event_id);

CREATE TABLE gift_animation_plays (
  id                      bigserial PRIMARY KEY,
  gift_transaction_id     text NOT NULL REFERENCES gift_transactions(id),
  user_id                 text NOT NULL REFERENCES users(id),
  animation_started_at    timestamptz NOT NULL,
  animation_completed_at  timestamptz,
  animation_duration_ms   integer,
  platform                text,
  app_version             text,
  completed               boolean NOT NULL DEFAULT false,
  error_message           text
);
CREATE INDEX gift_animation_plays_transaction ON gift_animation_plays (gift_transaction_id);
CREATE INDEX gift_animation_plays_user ON gift_animation_plays (user_id, animation_started_at DESC);
