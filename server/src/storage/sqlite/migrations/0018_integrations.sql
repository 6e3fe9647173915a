-- Integrations (docs/integrations.md): API keys that HQ creates for an ERP or BI system, and the
-- JSON import batches answered once per idempotency key.

-- Only the SHA-256 of a key is stored; `prefix` (its first characters) lets HQ recognise it.
-- `scopes` is space-separated (`events:read imports:write`). Every use moves `last_used_at` and
-- `use_count`; a revoked key keeps its row, so HQ still sees what it did.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_used_at INTEGER,
    use_count INTEGER NOT NULL DEFAULT 0
);
-- One live key per name in a tenant; a revoked key's name may be given again.
CREATE UNIQUE INDEX api_keys_live_name ON api_keys(tenant_id, name) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_tenant ON api_keys(tenant_id, created_at);

-- A JSON import batch by the client's idempotency key, claimed before it is imported (`response`
-- NULL while it runs) so that two requests under one key never both import: once applied, the
-- same key with the same body answers `response` again and writes nothing; another body is
-- refused. A refused batch's claim is removed.
CREATE TABLE import_batches (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    idempotency_key TEXT NOT NULL,
    dataset TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    response TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);
