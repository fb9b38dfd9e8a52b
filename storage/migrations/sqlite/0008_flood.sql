-- slakeeper schema, version 8: the per-customer intake limit counts a
-- customer's incidents reported since a time; this index makes that a
-- short range scan, however many incidents the customer has had.
CREATE INDEX incidents_customer_reported ON incidents (customer_id, reported_at);
