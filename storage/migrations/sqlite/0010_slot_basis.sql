-- slakeeper schema, version 10: the slots carried over from version 8 get
-- the time their series counts from (a clock's deadline, the visit, the
-- ping); the weekly follow-up's depends on the policy and stays NULL. See
-- the PostgreSQL migration.
UPDATE timer_slots SET basis = (
    SELECT CASE timer_slots.track
            WHEN 'ack' THEN i.ack_due
            WHEN 'onsite' THEN i.onsite_due
            WHEN 'restore' THEN i.restore_due
            WHEN 'report' THEN i.onsite_at
            WHEN 'followup_check' THEN i.last_ping_at
        END
    FROM incidents i WHERE i.id = timer_slots.incident_id)
WHERE basis IS NULL AND track <> 'followup';
