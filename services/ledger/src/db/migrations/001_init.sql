-- Crowncast ledger schema. Every crown lives in an account; every movement is an entry.

CREATE TABLE users (
  id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
  username    text NOT NULL,
  avatar      text NOT NULL DEFAULT '',
  tier        text NOT NULL DEFAULT 'bronze',
  level       integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Accounts: 'user:<id>' (wallet), 'club:<id>' (treasury), 'game:<id>' (pot) and 'system:issuer'.
-- The issuer goes negative by exactly what was ever issued, so the sum of all balances is always 0.
CREATE TABLE accounts (
  id          text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('user', 'club', 'game', 'system')),
  owner_id    text NOT NULL,
  balance     bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT balance_never_negative CHECK (balance >= 0 OR kind = 'system')
);
INSERT INTO accounts (id, kind, owner_id) VALUES ('system:issuer', 'system', 'issuer');

-- Double entry, append-only: each row debits one account and credits another.
CREATE TABLE entries (
  id              bigserial PRIMARY KEY,
  transaction_id  text NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('grant', 'gift', 'event_reward')),
  debit_account   text NOT NULL REFERENCES accounts(id),
  credit_account  text NOT NULL REFERENCES accounts(id),
  amount          bigint NOT NULL CHECK (amount > 0),
  debit_before    bigint NOT NULL,
  debit_after     bigint NOT NULL,
  credit_before   bigint NOT NULL,
  credit_after    bigint NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (debit_account <> credit_account),
  CHECK (debit_after = debit_before - amount AND credit_after = credit_before + amount)
);
CREATE INDEX entries_transaction ON entries (transaction_id);
CREATE INDEX entries_debit ON entries (debit_account, id);
CREATE INDEX entries_credit ON entries (credit_account, id);

CREATE FUNCTION entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'entries are append-only';
END $$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
  FOR EACH ROW EXECUTE FUNCTION entries_append_only();

CREATE TABLE grants (
  id          text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users(id),
  amount      bigint NOT NULL CHECK (amount > 0),
  reason      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gifts (
  id                     text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
  name                   text NOT NULL,
  icon                   text NOT NULL,
  category               text NOT NULL CHECK (category IN ('basic', 'premium', 'ultra')),
  rarity                 text NOT NULL CHECK (rarity IN ('common', 'rare', 'epic', 'legendary')),
  price                  integer NOT NULL CHECK (price > 0),
  animation_url          text NOT NULL,
  audio_url              text NOT NULL,
  animation_duration_ms  integer NOT NULL DEFAULT 2500,
  active                 boolean NOT NULL DEFAULT true
);

CREATE TABLE clubs (
  id                            text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
  name                          text NOT NULL,
  avatar                        text NOT NULL DEFAULT '',
  experience                    bigint NOT NULL DEFAULT 0,
  threshold_value               bigint NOT NULL DEFAULT 0,
  websocket_room_id             text GENERATED ALWAYS AS ('club:' || id) STORED,
  active_websocket_connections  integer NOT NULL DEFAULT 0,
  last_gift_at                  timestamptz,
  created_at                    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE club_members (
  club_id    text NOT NULL REFERENCES clubs(id) ON DELETE CASCADE,
  user_id    text NOT NULL REFERENCES users(id),
  role       text NOT NULL DEFAULT 'member',
  joined_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (club_id, user_id)
);
CREATE INDEX club_members_user ON club_members (user_id);

CREATE TABLE club_threshold_levels (
  club_id   text NOT NULL REFERENCES clubs(id) ON DELETE CASCADE,
  position  integer NOT NULL,
  name      text NOT NULL,
  target    bigint NOT NULL CHECK (target > 0),
  PRIMARY KEY (club_id, position)
);

CREATE TABLE club_events (
  id                      text PRIMARY KEY,
  club_id                 text NOT NULL REFERENCES clubs(id) ON DELETE CASCADE,
  name                    text NOT NULL,
  goal                    bigint NOT NULL CHECK (goal > 0),
  starts_at               timestamptz NOT NULL,
  ends_at                 timestamptz NOT NULL,
  reward_club_experience  integer NOT NULL DEFAULT 0,
  reward_member_crowns    integer NOT NULL DEFAULT 0,
  total_contributed       bigint NOT NULL DEFAULT 0,
  goal_reached_at         timestamptz,
  created_at              timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at)
);
CREATE INDEX club_events_live ON club_events (club_id, ends_at);

CREATE TABLE event_contributions (
  event_id  text NOT NULL REFERENCES club_events(id) ON DELETE CASCADE,
  user_id   text NOT NULL REFERENCES users(id),
  amount    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_contributions_top ON event_contributions (event_id, amount DESC);

CREATE TABLE games (
  id            text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
  name          text NOT NULL,
  last_gift_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE game_players (
  game_id    text NOT NULL REFERENCES games(id) ON DELETE CASCADE,
  user_id    text NOT NULL REFERENCES users(id),
  joined_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (game_id, user_id)
);
CREATE INDEX game_players_user ON game_players (user_id);

CREATE TABLE gift_transactions (
  id                          text PRIMARY KEY,
  gift_id                     text NOT NULL REFERENCES gifts(id),
  quantity                    integer NOT NULL CHECK (quantity > 0),
  total_value                 bigint NOT NULL CHECK (total_value > 0),
  sender_user_id              text NOT NULL REFERENCES users(id),
  recipient_user_id           text REFERENCES users(id),
  recipient_club_id           text REFERENCES clubs(id),
  recipient_game_id           text REFERENCES games(id),
  message                     text,
  context_type                text NOT NULL CHECK (context_type IN ('user_to_user', 'club', 'game')),
  context_id                  text NOT NULL,
  websocket_broadcast_status  text NOT NULL DEFAULT 'pending' CHECK (websocket_broadcast_status IN ('pending', 'sent', 'failed')),
  websocket_broadcast_at      timestamptz,
  websocket_room_id           text NOT NULL,
  websocket_recipient_count   integer NOT NULL DEFAULT 0,
  is_global_announcement      boolean NOT NULL DEFAULT false,
  global_announcement_sent    boolean NOT NULL DEFAULT false,
  global_announcement_at      timestamptz,
  status                      text NOT NULL DEFAULT 'sent',
  sent_at                     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT one_recipient CHECK (num_nonnulls(recipient_user_id, recipient_club_id, recipient_game_id) = 1)
);
CREATE INDEX gift_transactions_sender ON gift_transactions (sender_user_id, sent_at DESC, id DESC);
CREATE INDEX gift_transactions_recipient_user ON gift_transactions (recipient_user_id, sent_at DESC, id DESC);
CREATE INDEX gift_transactions_context ON gift_transactions (context_type, context_id, sent_at DESC);

CREATE TABLE notifications (
  id          text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users(id),
  type        text NOT NULL,
  title       text NOT NULL,
  message     text NOT NULL,
  data        jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  read_at     timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, (read_at IS NULL) DESC, created_at DESC, id DESC);

-- A retried request with the same key gets the stored answer; only successful answers are kept.
CREATE TABLE idempotency_keys (
  scope         text NOT NULL,
  key           text NOT NULL,
  request_hash  text NOT NULL,
  status_code   integer,
  response      jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Events written in the same transaction as the money; the relay publishes them to JetStream.
-- xid lets the relay take only rows of transactions that can no longer commit below it.
CREATE TABLE outbox (
  id            bigserial PRIMARY KEY,
  xid           xid8 NOT NULL DEFAULT pg_current_xact_id(),
  event_id      text NOT NULL UNIQUE,
  room          text NOT NULL,
  type          text NOT NULL,
  envelope      jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
