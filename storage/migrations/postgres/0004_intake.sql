-- slakeeper schema, version 4: intake a customer can trust.
--
-- An incident may wait for an engineer to decide whether it is a fault
-- (status 'triage'); it may end as a duplicate of another or as not a
-- fault (outcome), which keeps it out of the compliance figures but in the
-- digests; a new fault written in a closed incident's thread is linked to
-- it (related_to). Every message written in a customer channel is kept
-- with what was decided about it, and every decision of an engineer that
-- corrects the classifier is kept as a labelled example it learns from.

ALTER TABLE incidents DROP CONSTRAINT incidents_status_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_status_check
    CHECK (status IN ('triage', 'open', 'acknowledged', 'onsite', 'restored', 'closed'));
ALTER TABLE incidents ADD COLUMN outcome TEXT NOT NULL DEFAULT ''
    CHECK (outcome IN ('', 'duplicate', 'notfault'));
ALTER TABLE incidents ADD COLUMN merged_into BIGINT REFERENCES incidents (id);
ALTER TABLE incidents ADD COLUMN related_to BIGINT REFERENCES incidents (id);
-- A closed incident was restored, unless it was closed as a duplicate or
-- as not a fault; only a closed incident has an outcome; a duplicate names
-- the incident it was merged into.
ALTER TABLE incidents DROP CONSTRAINT incidents_check1;
ALTER TABLE incidents DROP CONSTRAINT incidents_check2;
ALTER TABLE incidents ADD CONSTRAINT incidents_closed_check
    CHECK (status <> 'closed' OR (closed_at IS NOT NULL AND (restored_at IS NOT NULL OR outcome <> '')));
ALTER TABLE incidents ADD CONSTRAINT incidents_restored_check
    CHECK (status <> 'restored' OR restored_at IS NOT NULL);
ALTER TABLE incidents ADD CONSTRAINT incidents_outcome_closed_check
    CHECK (outcome = '' OR status = 'closed');
ALTER TABLE incidents ADD CONSTRAINT incidents_merged_check
    CHECK ((outcome = 'duplicate') = (merged_into IS NOT NULL) AND merged_into IS DISTINCT FROM id);

DROP INDEX incidents_unsolved;
CREATE INDEX incidents_unsolved ON incidents (reported_at, customer_id)
    WHERE status IN ('triage', 'open', 'acknowledged', 'onsite', 'restored');
-- The customer's latest active incidents in a chat, for follow-ups.
CREATE INDEX incidents_active_customer ON incidents (customer_id, reported_at DESC)
    WHERE status IN ('triage', 'open', 'acknowledged', 'onsite');

ALTER TABLE timeline DROP CONSTRAINT timeline_kind_check;
ALTER TABLE timeline ADD CONSTRAINT timeline_kind_check CHECK (kind IN ('opened', 'message', 'acknowledged', 'assigned',
    'severity_changed', 'onsite', 'restored', 'closed', 'reopened', 'note', 'reminder', 'breach', 'escalation',
    'followup', 'report', 'triaged', 'merged', 'not_a_fault', 'reply'));

-- Every message a person wrote in a customer channel, and what was decided
-- about it: nothing a customer says is lost, whatever the classifier
-- thought of it.
CREATE TABLE messages (
    id           BIGSERIAL PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
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
    confidence   DOUBLE PRECISION,
    reason       TEXT NOT NULL DEFAULT '',
    decision     TEXT NOT NULL CHECK (decision IN ('opened', 'triage', 'attached', 'reply', 'first_response', 'chatter', 'staff')),
    incident_id  BIGINT REFERENCES incidents (id) ON DELETE SET NULL,
    CHECK ((decision IN ('chatter', 'staff')) = (incident_id IS NULL))
);
CREATE INDEX messages_incident ON messages (incident_id, id) WHERE incident_id IS NOT NULL;
CREATE INDEX messages_chat ON messages (platform, chat_id, at);

-- What the engineers decided about a customer's words: a triage decision,
-- a severity changed, not a fault. The classifier of `serve` learns from
-- these beside the shipped corpus.
CREATE TABLE classifier_examples (
    id           BIGSERIAL PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
    label        TEXT NOT NULL CHECK (label IN ('core', 'noncore', 'none')),
    body         TEXT NOT NULL CHECK (body <> ''),
    source       TEXT NOT NULL CHECK (source IN ('triage', 'severity', 'notfault')),
    incident_id  BIGINT REFERENCES incidents (id) ON DELETE SET NULL,
    decided_by   TEXT REFERENCES people (id)
);
CREATE INDEX classifier_examples_at ON classifier_examples (id);
