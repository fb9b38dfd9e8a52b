-- slakeeper: foreign_keys=off
-- (SQLite changes a CHECK constraint by rebuilding the table; the runner
-- turns foreign keys off around this migration, so that dropping the old
-- table cascades nowhere, and checks every foreign key before it commits.)
--
-- slakeeper schema, version 4: intake a customer can trust.
--
-- An incident may wait for an engineer to decide whether it is a fault
-- (status 'triage'); it may end as a duplicate of another or as not a
-- fault (outcome), which keeps it out of the compliance figures but in the
-- digests; a new fault written in a closed incident's thread is linked to
-- it (related_to). Every message written in a customer channel is kept
-- with what was decided about it, and every decision of an engineer that
-- corrects the classifier is kept as a labelled example it learns from.

CREATE TABLE incidents_v4 (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id      TEXT NOT NULL REFERENCES customers (id),
    severity         TEXT NOT NULL CHECK (severity IN ('core', 'noncore')),
    status           TEXT NOT NULL CHECK (status IN ('triage', 'open', 'acknowledged', 'onsite', 'restored', 'closed')),
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
    area             TEXT NOT NULL DEFAULT '',
    outcome          TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'duplicate', 'notfault')),
    merged_into      INTEGER REFERENCES incidents (id),
    related_to       INTEGER REFERENCES incidents (id),
    ack_ms INTEGER GENERATED ALWAYS AS (CAST(round(
        (julianday(replace(acked_at, ' +0000 UTC', '')) - julianday(replace(reported_at, ' +0000 UTC', ''))) * 86400000) AS INTEGER)) VIRTUAL,
    restore_ms INTEGER GENERATED ALWAYS AS (CAST(round(
        (julianday(replace(restored_at, ' +0000 UTC', '')) - julianday(replace(reported_at, ' +0000 UTC', ''))) * 86400000) AS INTEGER)) VIRTUAL,
    ack_late_ms INTEGER GENERATED ALWAYS AS (CAST(round(
        (julianday(replace(acked_at, ' +0000 UTC', '')) - julianday(replace(ack_due, ' +0000 UTC', ''))) * 86400000) AS INTEGER)) VIRTUAL,
    onsite_late_ms INTEGER GENERATED ALWAYS AS (CAST(round(
        (julianday(replace(onsite_met_at, ' +0000 UTC', '')) - julianday(replace(onsite_due, ' +0000 UTC', ''))) * 86400000) AS INTEGER)) VIRTUAL,
    restore_late_ms INTEGER GENERATED ALWAYS AS (CAST(round(
        (julianday(replace(restored_at, ' +0000 UTC', '')) - julianday(replace(restore_due, ' +0000 UTC', ''))) * 86400000) AS INTEGER)) VIRTUAL,
    CHECK ((severity = 'core') = (onsite_due IS NOT NULL)),
    -- A closed incident was restored, unless it was closed as a duplicate
    -- or as not a fault; only a closed incident has an outcome; a duplicate
    -- names the incident it was merged into.
    CHECK (status <> 'closed' OR (closed_at IS NOT NULL AND (restored_at IS NOT NULL OR outcome <> ''))),
    CHECK (status <> 'restored' OR restored_at IS NOT NULL),
    CHECK (outcome = '' OR status = 'closed'),
    CHECK ((outcome = 'duplicate') = (merged_into IS NOT NULL) AND merged_into IS NOT id)
);
INSERT INTO incidents_v4 (id, customer_id, severity, status, title, reason, reported_at, reported_by, reporter_name,
    assignee_id, ack_due, onsite_due, restore_due, acked_at, acked_by, onsite_at, onsite_met_at, restored_at,
    restore_summary, closed_at, reopened_at, last_ping_at, last_followup_at, report_filed_at, version, area)
SELECT id, customer_id, severity, status, title, reason, reported_at, reported_by, reporter_name,
    assignee_id, ack_due, onsite_due, restore_due, acked_at, acked_by, onsite_at, onsite_met_at, restored_at,
    restore_summary, closed_at, reopened_at, last_ping_at, last_followup_at, report_filed_at, version, area
FROM incidents;
DROP TABLE incidents;
ALTER TABLE incidents_v4 RENAME TO incidents;
CREATE INDEX incidents_customer_status ON incidents (customer_id, status);
CREATE INDEX incidents_status ON incidents (status);
CREATE INDEX incidents_reported ON incidents (reported_at);
CREATE INDEX incidents_unsolved ON incidents (reported_at, customer_id)
    WHERE status IN ('triage', 'open', 'acknowledged', 'onsite', 'restored');
CREATE INDEX incidents_ack_late ON incidents (ack_late_ms DESC, id) WHERE ack_late_ms > 0;
CREATE INDEX incidents_onsite_late ON incidents (onsite_late_ms DESC, id) WHERE onsite_late_ms > 0;
CREATE INDEX incidents_restore_late ON incidents (restore_late_ms DESC, id) WHERE restore_late_ms > 0;
-- The customer's latest active incidents, for follow-ups.
CREATE INDEX incidents_active_customer ON incidents (customer_id, reported_at DESC)
    WHERE status IN ('triage', 'open', 'acknowledged', 'onsite');

CREATE TABLE timeline_v4 (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at           TIMESTAMP NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('opened', 'message', 'acknowledged', 'assigned', 'severity_changed',
                     'onsite', 'restored', 'closed', 'reopened', 'note', 'reminder', 'breach', 'escalation',
                     'followup', 'report', 'triaged', 'merged', 'not_a_fault', 'reply')),
    actor_id     TEXT REFERENCES people (id),
    actor_name   TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    data         TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO timeline_v4 (id, incident_id, at, kind, actor_id, actor_name, body, data)
SELECT id, incident_id, at, kind, actor_id, actor_name, body, data FROM timeline;
DROP TABLE timeline;
ALTER TABLE timeline_v4 RENAME TO timeline;
CREATE INDEX timeline_incident ON timeline (incident_id, id);

-- Every message a person wrote in a customer channel, and what was decided
-- about it: nothing a customer says is lost, whatever the classifier
-- thought of it.
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TIMESTAMP NOT NULL,
    platform     TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    thread_id    TEXT NOT NULL DEFAULT '',
    message_id   TEXT NOT NULL DEFAULT '',
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    author_id    TEXT REFERENCES people (id),
    author_name  TEXT NOT NULL DEFAULT '',
    staff        BOOLEAN NOT NULL,
    body         TEXT NOT NULL,
    verdict      TEXT NOT NULL DEFAULT '' CHECK (verdict IN ('', 'core', 'noncore', 'triage', 'notfault')),
    confidence   REAL,
    reason       TEXT NOT NULL DEFAULT '',
    decision     TEXT NOT NULL CHECK (decision IN ('opened', 'triage', 'attached', 'reply', 'first_response', 'chatter', 'staff')),
    incident_id  INTEGER REFERENCES incidents (id) ON DELETE SET NULL,
    CHECK ((decision IN ('chatter', 'staff')) = (incident_id IS NULL))
);
CREATE INDEX messages_incident ON messages (incident_id, id) WHERE incident_id IS NOT NULL;
CREATE INDEX messages_chat ON messages (platform, chat_id, at);

-- What the engineers decided about a customer's words: a triage decision,
-- a severity changed, not a fault. The classifier of `serve` learns from
-- these beside the shipped corpus.
CREATE TABLE classifier_examples (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TIMESTAMP NOT NULL,
    label        TEXT NOT NULL CHECK (label IN ('core', 'noncore', 'none')),
    body         TEXT NOT NULL CHECK (body <> ''),
    source       TEXT NOT NULL CHECK (source IN ('triage', 'severity', 'notfault')),
    incident_id  INTEGER REFERENCES incidents (id) ON DELETE SET NULL,
    decided_by   TEXT REFERENCES people (id)
);
