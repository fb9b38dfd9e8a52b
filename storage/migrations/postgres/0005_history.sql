-- slakeeper schema, version 5: figures a manager can sign.
--
-- Clock history is append-only: an instance of a clock that closed before
-- the incident did (the restore clock of an incident that was reopened, an
-- on-site clock met before the severity dropped) is kept here as it was
-- met, never updated, and counted by the statistics beside the incident's
-- current clocks. past_clocks counts an incident's rows here, so that an
-- incident without any is read without looking.
ALTER TABLE incidents ADD COLUMN past_clocks INTEGER NOT NULL DEFAULT 0 CHECK (past_clocks >= 0);

CREATE TABLE clock_history (
    incident_id  BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    clock        TEXT NOT NULL CHECK (clock IN ('ack', 'onsite', 'restore')),
    instance     INTEGER NOT NULL CHECK (instance > 0),
    severity     TEXT NOT NULL CHECK (severity IN ('core', 'noncore')),
    due_at       TIMESTAMPTZ NOT NULL,
    met_at       TIMESTAMPTZ NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (incident_id, clock, instance)
);

CREATE FUNCTION clock_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'clock history is append-only' USING ERRCODE = 'check_violation';
END
$$;
CREATE TRIGGER clock_history_no_update BEFORE UPDATE ON clock_history
    FOR EACH ROW EXECUTE FUNCTION clock_history_append_only();

-- The statistics find the few incidents with closed clock instances, and
-- the few duplicates and false reports, without reading the others.
CREATE INDEX incidents_past_clocks ON incidents (reported_at) WHERE past_clocks > 0;
CREATE INDEX incidents_dismissed ON incidents (reported_at) WHERE outcome <> '';
-- The clocks still running of the unsolved incidents, in deadline order:
-- the worst breaches still open are the first entries.
CREATE INDEX incidents_ack_unmet ON incidents (ack_due)
    WHERE acked_at IS NULL AND status IN ('triage', 'open', 'acknowledged', 'onsite', 'restored');
CREATE INDEX incidents_onsite_unmet ON incidents (onsite_due)
    WHERE onsite_met_at IS NULL AND severity = 'core' AND status IN ('triage', 'open', 'acknowledged', 'onsite', 'restored');
CREATE INDEX incidents_restore_unmet ON incidents (restore_due)
    WHERE restored_at IS NULL AND status IN ('triage', 'open', 'acknowledged', 'onsite', 'restored');

-- A channel may speak both languages: each post in Chinese and English.
ALTER TABLE channels DROP CONSTRAINT channels_lang_check;
ALTER TABLE channels ADD CONSTRAINT channels_lang_check CHECK (lang IN ('zh', 'en', 'both'));
