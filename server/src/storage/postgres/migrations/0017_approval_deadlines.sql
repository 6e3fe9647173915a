-- Approval deadlines and delegations (docs/approval-policy.md): the current step's deadline on its order's row,
-- for the "waiting on me" queue sorted by time left; when each step started waiting, its
-- deadline, reminder and escalation, for the approvals report. The job queued at the end
-- derives the new columns from the stored reviews.
ALTER TABLE order_rows ADD COLUMN current_due_at BIGINT;
ALTER TABLE order_steps ADD COLUMN started_at BIGINT;
ALTER TABLE order_steps ADD COLUMN due_at BIGINT;
ALTER TABLE order_steps ADD COLUMN reminded_at BIGINT;
ALTER TABLE order_steps ADD COLUMN escalated_at BIGINT;
ALTER TABLE order_steps ADD COLUMN escalated_from TEXT;
CREATE INDEX order_rows_due ON order_rows(tenant_id, current_approver, current_due_at);
CREATE INDEX order_steps_started ON order_steps(tenant_id, started_at);


-- Out-of-office delegations: while [starts_at, ends_at) holds, steps routed to user_id go to
-- delegate_id. One per user; setting another replaces it.
CREATE TABLE delegations (
    tenant_id BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    delegate_id TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

INSERT INTO jobs (tenant_id, kind, key, payload, run_after, created_at)
SELECT DISTINCT tenant_id, 'rebuild-projections', 'read-model-approval-deadlines', '{}', 0, 0 FROM documents
ON CONFLICT (tenant_id, kind, key) DO NOTHING;
