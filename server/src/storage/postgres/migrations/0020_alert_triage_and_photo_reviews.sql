-- Alert triage (docs/alerts.md): what people did about an alert, per cause key, beside the
-- inboxes the relay writes. `alert_actions` is the history (who, when, what); `alert_triage`
-- the current state the alerts page and `GET /v1/alerts/causes` show and filter on.
CREATE TABLE alert_actions (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    alert_key TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    note TEXT,
    snoozed_until BIGINT,
    assignee TEXT
);
CREATE INDEX alert_actions_by_key ON alert_actions(tenant_id, alert_key, at);

CREATE TABLE alert_triage (
    tenant_id BIGINT NOT NULL,
    alert_key TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at BIGINT,
    acknowledged_note TEXT,
    snoozed_until BIGINT,
    snoozed_by TEXT,
    snoozed_at BIGINT,
    assignee TEXT,
    assigned_by TEXT,
    assigned_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, alert_key)
);
CREATE INDEX alert_triage_by_assignee ON alert_triage(tenant_id, assignee);
-- The causes list groups an asker's rows by cause key, and names each cause's product by SKU.
CREATE INDEX alert_rows_by_key ON alert_rows(tenant_id, alert_id, state);
CREATE INDEX product_rows_by_sku ON product_rows(tenant_id, sku);

-- Photo review (docs/scoring.md): a supervisor's manager or HQ accepts or rejects a photo the
-- scorer put at review; the decision enters every later scoring of the inspection.
CREATE TABLE photo_reviews (
    tenant_id BIGINT NOT NULL,
    inspection_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, inspection_id, sha256)
);
