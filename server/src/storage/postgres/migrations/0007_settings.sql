-- Per-tenant settings: the optional alert webhook (URL and signing secret) and the round of
-- alert evaluations, which coalesces evaluation requests into one queued job per round (the same
-- table as SQLite's 0007_settings.sql).
CREATE TABLE tenant_settings (
    tenant_id BIGINT PRIMARY KEY REFERENCES tenants(id),
    webhook_tenant TEXT,
    webhook_url TEXT,
    webhook_secret TEXT,
    alert_round BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
