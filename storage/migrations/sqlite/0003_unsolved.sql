-- slakeeper schema, version 3: the unsolved problems (C6), which the
-- statistics, the digests and /status count, found without reading the
-- table: only unsolved incidents are in this index.
CREATE INDEX incidents_unsolved ON incidents (reported_at, customer_id)
    WHERE status IN ('open', 'acknowledged', 'onsite', 'restored');
