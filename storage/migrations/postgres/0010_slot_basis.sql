-- slakeeper schema, version 10: the slots carried over from version 8 get
-- the time their series counts from.
--
-- Version 9 left their basis NULL. Without it the engine cannot tell a
-- deadline that moved (a new series: its first step, at once if it is due
-- already) from a policy that changed (the same series: resume where the
-- slot stood), and took every such slot for the same series: raised to
-- core, a normal incident's restore breach, due hours ago under the new
-- deadline, waited for the old slot's step. Schema 8 kept pending exactly
-- the steps of the deadlines as they stand, so a slot's basis is what the
-- schedule counts from today (sla.Incident.steps): a clock's deadline, the
-- visit for the report reminders, the ping for its check. The weekly
-- follow-up counts from a time the policy decides (FollowUp.After); it
-- stays NULL, and the engine gives it its step's basis when it next finds
-- the slot on its series (sla.Incident.Reschedule).
UPDATE timer_slots s SET basis = CASE s.track
        WHEN 'ack' THEN i.ack_due
        WHEN 'onsite' THEN i.onsite_due
        WHEN 'restore' THEN i.restore_due
        WHEN 'report' THEN i.onsite_at
        WHEN 'followup_check' THEN i.last_ping_at
    END
FROM incidents i
WHERE i.id = s.incident_id AND s.basis IS NULL AND s.track <> 'followup';
