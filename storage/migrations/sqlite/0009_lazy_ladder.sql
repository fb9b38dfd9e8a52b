-- slakeeper schema, version 9: intake at the speed of the database (issue 16).
--
-- The lazy escalation ladder: one row per series of an incident's schedule
-- (the step due next) instead of every step; see the PostgreSQL migration.
CREATE TABLE timer_slots (
    incident_id  INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    track        TEXT NOT NULL CHECK (track IN ('ack', 'onsite', 'restore', 'followup', 'followup_check', 'report')),
    clock        TEXT NOT NULL CHECK (clock IN ('ack', 'onsite', 'restore', 'followup', 'report')),
    kind         TEXT NOT NULL CHECK (kind IN ('reminder', 'breach', 'escalation', 'followup', 'followup_check', 'report')),
    level        INTEGER NOT NULL CHECK (level BETWEEN 0 AND 3),
    due_at       TIMESTAMP NOT NULL,
    basis        TIMESTAMP,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'fired', 'cancelled')),
    PRIMARY KEY (incident_id, track)
);
CREATE INDEX timer_slots_pending ON timer_slots (due_at) WHERE status = 'pending';

INSERT INTO timer_slots (incident_id, track, clock, kind, level, due_at, basis, status)
SELECT incident_id, track, clock, kind, level, due_at, NULL, status FROM (
    SELECT incident_id, clock, kind, level, due_at, status, track,
        row_number() OVER (PARTITION BY incident_id, track
            ORDER BY status <> 'pending', CASE WHEN status = 'pending' THEN due_at END, due_at DESC, id DESC) AS n
    FROM (SELECT t.*, CASE WHEN t.kind IN ('reminder', 'breach', 'escalation') THEN t.clock ELSE t.kind END AS track
          FROM timers t WHERE t.status IN ('pending', 'fired'))
) WHERE n = 1;
DROP TABLE timers;

DROP INDEX incidents_status;
DROP INDEX incidents_active_customer;
CREATE INDEX incidents_active_customer ON incidents (customer_id, reported_at DESC, id DESC)
    WHERE status IN ('triage', 'open', 'acknowledged', 'onsite');
