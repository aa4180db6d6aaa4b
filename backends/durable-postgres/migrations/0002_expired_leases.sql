-- "Lost turns first": claims take executions whose lease expired (their
-- worker died or stalled mid-turn) before the rest of the backlog, by this
-- index of the leased executions (released leases are NULL, so it stays
-- as small as the work in flight).
CREATE INDEX executions_lease_until ON executions (lease_until) WHERE lease_until IS NOT NULL;
