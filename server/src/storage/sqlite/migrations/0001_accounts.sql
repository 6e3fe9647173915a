-- Tenants, users, devices and sessions.
CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- Users log in with (tenant, username); `id` is random and is what documents name as owner.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    region TEXT,
    disabled_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, username)
);

-- One row per login on a phone (or an integration); sessions and actor ids bind to it.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX devices_by_user ON devices(tenant_id, user_id);

-- Bearer tokens, stored as the hex SHA-256 of the token: a stolen database holds no usable token.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    device_id TEXT NOT NULL REFERENCES devices(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sessions_by_user ON sessions(tenant_id, user_id);
CREATE INDEX sessions_by_device ON sessions(tenant_id, device_id);
