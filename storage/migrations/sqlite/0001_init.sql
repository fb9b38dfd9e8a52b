-- slakeeper schema, version 1: the directory (customers, people, channels),
-- incidents and their timeline, inbound dedupe, the outbox and timers.

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    lang          TEXT NOT NULL CHECK (lang IN ('zh', 'en')),
    accepted_on   DATE,
    warranty_end  DATE,
    policy        TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE people (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('customer', 'engineer', 'lead', 'manager', 'admin')),
    lang         TEXT NOT NULL CHECK (lang IN ('zh', 'en')),
    customer_id  TEXT REFERENCES customers (id),
    CHECK ((role = 'customer') = (customer_id IS NOT NULL))
);

CREATE TABLE person_identities (
    platform          TEXT NOT NULL CHECK (platform IN ('slack', 'telegram', 'console')),
    platform_user_id  TEXT NOT NULL,
    person_id         TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (platform, platform_user_id)
);

CREATE TABLE channels (
    platform     TEXT NOT NULL CHECK (platform IN ('slack', 'telegram', 'console')),
    chat_id      TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('customer', 'engineering', 'managers')),
    customer_id  TEXT REFERENCES customers (id),
    lang         TEXT NOT NULL CHECK (lang IN ('zh', 'en')),
    PRIMARY KEY (platform, chat_id),
    CHECK ((kind = 'customer') = (customer_id IS NOT NULL))
);

CREATE TABLE incidents (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id      TEXT NOT NULL REFERENCES customers (id),
    severity         TEXT NOT NULL CHECK (severity IN ('core', 'noncore')),
    status           TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'onsite', 'restored', 'closed')),
    title            TEXT NOT NULL CHECK (title <> ''),
    reason           TEXT NOT NULL DEFAULT '',
    reported_at      TIMESTAMP NOT NULL,
    reported_by      TEXT REFERENCES people (id),
    reporter_name    TEXT NOT NULL DEFAULT '',
    assignee_id      TEXT REFERENCES people (id),
    ack_due          TIMESTAMP NOT NULL,
    onsite_due       TIMESTAMP,
    restore_due      TIMESTAMP NOT NULL,
    acked_at         TIMESTAMP,
    acked_by         TEXT REFERENCES people (id),
    onsite_at        TIMESTAMP,
    onsite_met_at    TIMESTAMP,
    restored_at      TIMESTAMP,
    restore_summary  TEXT NOT NULL DEFAULT '',
    closed_at        TIMESTAMP,
    reopened_at      TIMESTAMP,
    last_ping_at     TIMESTAMP,
    last_followup_at TIMESTAMP,
    report_filed_at  TIMESTAMP,
    version          INTEGER NOT NULL CHECK (version > 0),
    CHECK ((severity = 'core') = (onsite_due IS NOT NULL)),
    CHECK (status <> 'closed' OR (closed_at IS NOT NULL AND restored_at IS NOT NULL)),
    CHECK (status NOT IN ('restored', 'closed') OR restored_at IS NOT NULL)
);
CREATE INDEX incidents_customer_status ON incidents (customer_id, status);
CREATE INDEX incidents_status ON incidents (status);

-- Where an incident lives in chat: the thread it was reported in (origin)
-- and the messages the bot posted about it, so that replies find it.
CREATE TABLE incident_threads (
    platform     TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    thread_id    TEXT NOT NULL,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    origin       BOOLEAN NOT NULL DEFAULT FALSE,
    bound_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (platform, chat_id, thread_id)
);
CREATE INDEX incident_threads_incident ON incident_threads (incident_id);

CREATE TABLE timeline (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at           TIMESTAMP NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('opened', 'message', 'acknowledged', 'assigned', 'severity_changed',
                     'onsite', 'restored', 'closed', 'reopened', 'note', 'reminder', 'breach', 'escalation',
                     'followup', 'report')),
    actor_id     TEXT REFERENCES people (id),
    actor_name   TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    data         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX timeline_incident ON timeline (incident_id, id);

-- Inbound platform events seen, so that a retried delivery is dropped.
CREATE TABLE inbound_events (
    platform     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    received_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (platform, event_id)
);

-- Messages to send, written in the same transaction as the change that
-- causes them; the dispatcher delivers them.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at       TIMESTAMP NOT NULL,
    platform         TEXT NOT NULL,
    chat_id          TEXT NOT NULL,
    thread_id        TEXT NOT NULL DEFAULT '',
    incident_id      INTEGER REFERENCES incidents (id) ON DELETE SET NULL,
    kind             TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    sent_at          TIMESTAMP,
    platform_ref     TEXT NOT NULL DEFAULT '',
    mentions         TEXT NOT NULL DEFAULT '',  -- person ids to mention, comma-separated
    payload          TEXT NOT NULL DEFAULT ''   -- structured content (an incident card), JSON
);
CREATE INDEX outbox_cards ON outbox (incident_id, platform, chat_id) WHERE kind = 'card' AND status = 'sent';
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE status = 'pending';

-- What is due when: reminders, breaches and escalations of an incident's
-- clocks, weekly follow-ups and report reminders. The engine fires them.
CREATE TABLE timers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    clock        TEXT NOT NULL CHECK (clock IN ('ack', 'onsite', 'restore', 'followup', 'report')),
    kind         TEXT NOT NULL CHECK (kind IN ('reminder', 'breach', 'escalation', 'followup', 'followup_check', 'report')),
    level        INTEGER NOT NULL DEFAULT 0 CHECK (level BETWEEN 0 AND 3),
    due_at       TIMESTAMP NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
    fired_at     TIMESTAMP,
    UNIQUE (incident_id, clock, kind, due_at)
);
CREATE INDEX timers_pending ON timers (due_at) WHERE status = 'pending';
CREATE INDEX timers_incident ON timers (incident_id, status);

-- Every missed clock, and how late it was met, for the statistics.
CREATE TABLE breaches (
    incident_id  INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    clock        TEXT NOT NULL CHECK (clock IN ('ack', 'onsite', 'restore')),
    due_at       TIMESTAMP NOT NULL,
    breached_at  TIMESTAMP NOT NULL,
    met_at       TIMESTAMP,
    PRIMARY KEY (incident_id, clock, due_at)
);

-- Temporary on-call overrides set by command.
CREATE TABLE oncall_overrides (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id   TEXT NOT NULL REFERENCES people (id),
    starts_at   TIMESTAMP NOT NULL,
    ends_at     TIMESTAMP NOT NULL,
    created_by  TEXT NOT NULL DEFAULT '',
    CHECK (ends_at > starts_at)
);
CREATE INDEX oncall_overrides_end ON oncall_overrides (ends_at);

-- Scheduled posts (announcements, warnings, digests), keyed by job, customer
-- and period, so that a restart or a second replica never posts one twice.
CREATE TABLE scheduled_posts (
    job          TEXT NOT NULL,
    customer_id  TEXT NOT NULL DEFAULT '',
    period       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('posted', 'skipped')),
    at           TIMESTAMP NOT NULL,
    PRIMARY KEY (job, customer_id, period)
);
