-- slakeeper schema, version 9: intake at the speed of the database (issue 16).
--
-- The lazy escalation ladder: instead of every step of every series of an
-- incident's schedule (sixteen rows for a core incident: per clock the
-- reminder, the breach, the lead, the managers and the first repeat, and
-- the weekly follow-up), one row per series: the step due next. The engine
-- derives the following step when it fires (sla.Incident.Fire).
CREATE TABLE timer_slots (
    incident_id  BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    track        TEXT NOT NULL CHECK (track IN ('ack', 'onsite', 'restore', 'followup', 'followup_check', 'report')),
    clock        TEXT NOT NULL CHECK (clock IN ('ack', 'onsite', 'restore', 'followup', 'report')),
    kind         TEXT NOT NULL CHECK (kind IN ('reminder', 'breach', 'escalation', 'followup', 'followup_check', 'report')),
    level        INTEGER NOT NULL CHECK (level BETWEEN 0 AND 3),
    due_at       TIMESTAMPTZ NOT NULL,
    -- When the series counts from (a clock's deadline): when that moves the
    -- series starts again. NULL for rows carried over from version 8.
    basis        TIMESTAMPTZ,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'fired', 'cancelled')),
    PRIMARY KEY (incident_id, track)
);
CREATE INDEX timer_slots_pending ON timer_slots (due_at) WHERE status = 'pending';

-- Of each series the earliest pending step; of a series with none pending,
-- the latest that fired (so that it is not fired again). Cancelled steps
-- belonged to series the incidents no longer need. Every alert that fired
-- is in the timeline.
INSERT INTO timer_slots (incident_id, track, clock, kind, level, due_at, basis, status)
SELECT incident_id, track, clock, kind, level, due_at, NULL, status FROM (
    SELECT t.incident_id, t.clock, t.kind, t.level, t.due_at, t.status, x.track,
        row_number() OVER (PARTITION BY t.incident_id, x.track
            ORDER BY t.status <> 'pending', CASE WHEN t.status = 'pending' THEN t.due_at END, t.due_at DESC, t.id DESC) AS n
    FROM timers t,
        LATERAL (SELECT CASE WHEN t.kind IN ('reminder', 'breach', 'escalation') THEN t.clock ELSE t.kind END AS track) x
    WHERE t.status IN ('pending', 'fired')
) s WHERE n = 1;
DROP TABLE timers;

-- incidents_status is covered by incidents_customer_status and the partial
-- indexes of the statistics; every insert paid for it.
DROP INDEX incidents_status;
-- The customer's latest incidents in progress, in the order intake reads
-- them (reported_at DESC, id DESC): a short index scan whatever the
-- planner's statistics say, even in a burst of thousands from one customer.
DROP INDEX incidents_active_customer;
CREATE INDEX incidents_active_customer ON incidents (customer_id, reported_at DESC, id DESC)
    WHERE status IN ('triage', 'open', 'acknowledged', 'onsite');
