-- The event outbox (docs/events.md): business events written in the transaction of the change
-- that causes them. `seq` is the tenant's position, drawn from `event_positions` so that it only
-- grows in commit order; `id` is derived from what the event is about, one event per id.
CREATE TABLE events (
    tenant_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq),
    UNIQUE (tenant_id, id)
);
CREATE INDEX events_type ON events(tenant_id, type, seq);

CREATE TABLE event_positions (
    tenant_id BIGINT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

-- How far each destination (`nats`, …) has delivered each tenant's events: advanced only after
-- the destination acknowledged them.
CREATE TABLE event_cursors (
    destination TEXT NOT NULL,
    tenant_id BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (destination, tenant_id)
);

-- Webhook subscriptions (HQ's): each gets the events of its types, signed with its secret; its
-- position is its `event_cursors` row (destination `webhook:<id>`).
CREATE TABLE event_subscriptions (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    types TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Events a subscription's receiver refused through every retry: kept for HQ to see and replay.
CREATE TABLE event_dead_letters (
    tenant_id BIGINT NOT NULL,
    subscription_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    failed_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, subscription_id, seq)
);
