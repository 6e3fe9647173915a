-- The event outbox (docs/events.md): business events written in the transaction of the change
-- that causes them. `seq` is the tenant's position, drawn from `event_positions` so that it only
-- grows in commit order; `id` is derived from what the event is about, one event per id.
CREATE TABLE events (
    tenant_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq),
    UNIQUE (tenant_id, id)
);
CREATE INDEX events_type ON events(tenant_id, type, seq);

CREATE TABLE event_positions (
    tenant_id INTEGER PRIMARY KEY,
    last_seq INTEGER NOT NULL
);

-- How far each destination (`nats`, …) has delivered each tenant's events: advanced only after
-- the destination acknowledged them.
CREATE TABLE event_cursors (
    destination TEXT NOT NULL,
    tenant_id INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (destination, tenant_id)
);
