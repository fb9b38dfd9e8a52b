-- slakeeper schema, version 3: what the statistics and digests look up
-- without reading the whole table.
--
-- The unsolved problems (C6): only unsolved incidents are in this index.
CREATE INDEX incidents_unsolved ON incidents (reported_at, customer_id)
    WHERE status IN ('open', 'acknowledged', 'onsite', 'restored');

-- How late each clock was met, in milliseconds (NULL until it is met); only
-- the late ones are indexed, so that the worst breaches are the first
-- entries of an index and a new incident adds nothing to these indexes.
ALTER TABLE incidents ADD COLUMN ack_late_ms BIGINT
    GENERATED ALWAYS AS ((EXTRACT(EPOCH FROM (acked_at - ack_due)) * 1000)::bigint) STORED;
ALTER TABLE incidents ADD COLUMN onsite_late_ms BIGINT
    GENERATED ALWAYS AS ((EXTRACT(EPOCH FROM (onsite_met_at - onsite_due)) * 1000)::bigint) STORED;
ALTER TABLE incidents ADD COLUMN restore_late_ms BIGINT
    GENERATED ALWAYS AS ((EXTRACT(EPOCH FROM (restored_at - restore_due)) * 1000)::bigint) STORED;
CREATE INDEX incidents_ack_late ON incidents (ack_late_ms DESC, id) WHERE ack_late_ms > 0;
CREATE INDEX incidents_onsite_late ON incidents (onsite_late_ms DESC, id) WHERE onsite_late_ms > 0;
CREATE INDEX incidents_restore_late ON incidents (restore_late_ms DESC, id) WHERE restore_late_ms > 0;

