-- slakeeper schema, version 2: the contract's calendar and the statistics.
-- Inspection and health check reports, revisit notes, release notices,
-- critical business periods, problem areas of incidents, and a topic on
-- outgoing messages so that a notice's delivery can be reported.

ALTER TABLE incidents ADD COLUMN area TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_reported ON incidents (reported_at);
-- Time to acknowledge and to restore in milliseconds, for the statistics.
-- The driver stores UTC times as "2006-01-02 15:04:05.999999999 +0000 UTC".
ALTER TABLE incidents ADD COLUMN ack_ms INTEGER GENERATED ALWAYS AS (CAST(round(
    (julianday(replace(acked_at, ' +0000 UTC', '')) - julianday(replace(reported_at, ' +0000 UTC', ''))) * 86400000) AS INTEGER)) VIRTUAL;
ALTER TABLE incidents ADD COLUMN restore_ms INTEGER GENERATED ALWAYS AS (CAST(round(
    (julianday(replace(restored_at, ' +0000 UTC', '')) - julianday(replace(reported_at, ' +0000 UTC', ''))) * 86400000) AS INTEGER)) VIRTUAL;

ALTER TABLE outbox ADD COLUMN topic TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_topic ON outbox (topic) WHERE topic <> '';

-- Assessment reports of inspections (C7, C12) and health checks (C9). A
-- report filed again is kept beside the first: nothing is overwritten.
CREATE TABLE service_reports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL CHECK (kind IN ('inspection', 'healthcheck')),
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    period       TEXT NOT NULL,
    filed_at     TIMESTAMP NOT NULL,
    filed_by     TEXT REFERENCES people (id),
    body         TEXT NOT NULL CHECK (body <> '')
);
CREATE INDEX service_reports_key ON service_reports (customer_id, kind, period);

-- Notes about a customer rather than an incident: the revisits (C13).
CREATE TABLE customer_notes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    at           TIMESTAMP NOT NULL,
    author_id    TEXT REFERENCES people (id),
    body         TEXT NOT NULL CHECK (body <> '')
);
CREATE INDEX customer_notes_customer ON customer_notes (customer_id, at);

-- Written notice of every release (C10); its messages carry the topic
-- 'release:<id>'.
CREATE TABLE releases (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    version       TEXT NOT NULL UNIQUE CHECK (version <> ''),
    notes         TEXT NOT NULL,
    announced_at  TIMESTAMP NOT NULL,
    announced_by  TEXT REFERENCES people (id)
);

-- Critical business periods set by command (C11); the configuration may
-- define more.
CREATE TABLE critical_windows (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    starts_at    TIMESTAMP NOT NULL,
    ends_at      TIMESTAMP NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    onsite       TEXT NOT NULL DEFAULT '',  -- person ids, comma-separated
    created_by   TEXT NOT NULL DEFAULT '',
    CHECK (ends_at > starts_at)
);
CREATE INDEX critical_windows_customer ON critical_windows (customer_id, ends_at);
