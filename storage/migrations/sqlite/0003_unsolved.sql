-- slakeeper schema, version 3: what the statistics and digests look up
-- without reading the whole table.
--
-- The unsolved problems (C6): only unsolved incidents are in this index.
CREATE INDEX incidents_unsolved ON incidents (reported_at, customer_id)
    WHERE status IN ('open', 'acknowledged', 'onsite', 'restored');

-- How late each clock was met, in milliseconds (NULL until it is met); only
-- the late ones are indexed.
ALTER TABLE incidents ADD COLUMN ack_late_ms INTEGER GENERATED ALWAYS AS (CAST(round(
    (julianday(replace(acked_at, ' +0000 UTC', '')) - julianday(replace(ack_due, ' +0000 UTC', ''))) * 86400000) AS INTEGER)) VIRTUAL;
ALTER TABLE incidents ADD COLUMN onsite_late_ms INTEGER GENERATED ALWAYS AS (CAST(round(
    (julianday(replace(onsite_met_at, ' +0000 UTC', '')) - julianday(replace(onsite_due, ' +0000 UTC', ''))) * 86400000) AS INTEGER)) VIRTUAL;
ALTER TABLE incidents ADD COLUMN restore_late_ms INTEGER GENERATED ALWAYS AS (CAST(round(
    (julianday(replace(restored_at, ' +0000 UTC', '')) - julianday(replace(restore_due, ' +0000 UTC', ''))) * 86400000) AS INTEGER)) VIRTUAL;
CREATE INDEX incidents_ack_late ON incidents (ack_late_ms DESC, id) WHERE ack_late_ms > 0;
CREATE INDEX incidents_onsite_late ON incidents (onsite_late_ms DESC, id) WHERE onsite_late_ms > 0;
CREATE INDEX incidents_restore_late ON incidents (restore_late_ms DESC, id) WHERE restore_late_ms > 0;

