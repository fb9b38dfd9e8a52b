-- slakeeper schema, version 7: inbound deliveries that fail every time.
--
-- A Telegram update or Slack event whose handling fails is counted here by
-- its platform's delivery id, so that the count survives a restart and is
-- shared by every replica. Once it has failed `attempts` times it is set
-- aside (rejected_at) and acknowledged to the platform, so that the
-- deliveries behind it are not held up. A row whose rejected_at is NULL is
-- a delivery that failed and may yet succeed.
CREATE TABLE rejected_inbound (
    platform     TEXT NOT NULL CHECK (platform ~ '^[a-z0-9]+$'),
    delivery_id  TEXT NOT NULL CHECK (delivery_id <> ''),
    attempts     INTEGER NOT NULL CHECK (attempts > 0),
    error_code   TEXT NOT NULL DEFAULT '',
    error_text   TEXT NOT NULL DEFAULT '',
    excerpt      TEXT NOT NULL DEFAULT '',
    first_seen   TIMESTAMPTZ NOT NULL,
    last_seen    TIMESTAMPTZ NOT NULL,
    rejected_at  TIMESTAMPTZ,
    PRIMARY KEY (platform, delivery_id),
    CHECK (last_seen >= first_seen)
);
CREATE INDEX rejected_inbound_latest ON rejected_inbound (rejected_at) WHERE rejected_at IS NOT NULL;
