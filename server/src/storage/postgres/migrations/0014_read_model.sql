-- The read model: relational rows derived from documents, for lists and figures
-- (crate::read_model). Each document write replaces what that document contributes in the same
-- transaction; a row filled by two documents (an order and its review, an inspection and its
-- score) takes from each only its own columns. `admin rebuild-projections` derives them again
-- from the documents; the job queued below does that for the documents stored before this
-- migration. Times are ms since the Unix epoch.
CREATE TABLE order_rows (
    tenant_id BIGINT NOT NULL,
    order_id TEXT NOT NULL,
    -- From the order.
    rep TEXT,
    store_id TEXT,
    region TEXT,
    customer_id TEXT,
    status TEXT,
    total_cents BIGINT,
    line_count BIGINT,
    created_at BIGINT,
    updated_at BIGINT,
    submitted_at BIGINT,
    submission BIGINT,
    -- From its review.
    order_number TEXT,
    outcome TEXT,
    reviewed_submission BIGINT,
    reviewed_total_cents BIGINT,
    finding_count BIGINT,
    reviewed_at BIGINT,
    decided_at BIGINT,
    current_step BIGINT,
    current_approver_role TEXT,
    current_approver TEXT,
    PRIMARY KEY (tenant_id, order_id)
);
CREATE INDEX order_rows_by_created ON order_rows(tenant_id, created_at, order_id);
CREATE INDEX order_rows_by_submitted ON order_rows(tenant_id, submitted_at, order_id);
CREATE INDEX order_rows_by_rep ON order_rows(tenant_id, rep, created_at);
CREATE INDEX order_rows_by_store ON order_rows(tenant_id, store_id, created_at);
CREATE INDEX order_rows_by_region ON order_rows(tenant_id, region, created_at);
CREATE INDEX order_rows_by_number ON order_rows(tenant_id, order_number);
CREATE INDEX order_rows_by_approver ON order_rows(tenant_id, current_approver);

CREATE TABLE order_lines (
    tenant_id BIGINT NOT NULL,
    order_id TEXT NOT NULL,
    line_id TEXT NOT NULL,
    sku TEXT,
    qty BIGINT,
    unit_price_cents BIGINT,
    discount_bp BIGINT,
    line_total_cents BIGINT,
    position BIGINT,
    PRIMARY KEY (tenant_id, order_id, line_id)
);
CREATE INDEX order_lines_by_sku ON order_lines(tenant_id, sku);

CREATE TABLE order_steps (
    tenant_id BIGINT NOT NULL,
    order_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    role TEXT,
    approver TEXT,
    rule TEXT,
    state TEXT,
    decided_at BIGINT,
    reason TEXT,
    PRIMARY KEY (tenant_id, order_id, step)
);
CREATE INDEX order_steps_by_approver ON order_steps(tenant_id, approver, state);

CREATE TABLE inspection_rows (
    tenant_id BIGINT NOT NULL,
    inspection_id TEXT NOT NULL,
    -- From the inspection.
    supervisor TEXT,
    store_id TEXT,
    region TEXT,
    template_id TEXT,
    status TEXT,
    check_in_at BIGINT,
    check_out_at BIGINT,
    answer_count BIGINT,
    photo_count BIGINT,
    updated_at BIGINT,
    -- From its score.
    score DOUBLE PRECISION,
    scoring_version BIGINT,
    photos_pass BIGINT,
    photos_review BIGINT,
    photos_rejected BIGINT,
    scored_at BIGINT,
    PRIMARY KEY (tenant_id, inspection_id)
);
CREATE INDEX inspection_rows_by_check_in ON inspection_rows(tenant_id, check_in_at, inspection_id);
CREATE INDEX inspection_rows_by_store ON inspection_rows(tenant_id, store_id, check_in_at);
CREATE INDEX inspection_rows_by_region ON inspection_rows(tenant_id, region, check_in_at);
CREATE INDEX inspection_rows_by_supervisor ON inspection_rows(tenant_id, supervisor, check_in_at);

CREATE TABLE alert_rows (
    tenant_id BIGINT NOT NULL,
    inbox_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    owner TEXT,
    kind TEXT,
    title TEXT,
    store_id TEXT,
    sku TEXT,
    state TEXT,
    raised_at BIGINT,
    closed_at BIGINT,
    PRIMARY KEY (tenant_id, inbox_id, alert_id)
);
CREATE INDEX alert_rows_by_owner ON alert_rows(tenant_id, owner, state, raised_at);
CREATE INDEX alert_rows_by_raised ON alert_rows(tenant_id, raised_at);

INSERT INTO jobs (tenant_id, kind, key, payload, run_after, created_at)
SELECT DISTINCT tenant_id, 'rebuild-projections', 'read-model-v1', '{}', 0, 0 FROM documents
ON CONFLICT (tenant_id, kind, key) DO NOTHING;
