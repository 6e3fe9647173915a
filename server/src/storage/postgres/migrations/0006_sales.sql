-- Imported sales figures (never synced to phones): POS daily sales per store and SKU, and
-- distributor purchases (the same tables as SQLite's 0006_sales.sql). `day` is YYYY-MM-DD, so
-- text order is date order.
CREATE TABLE daily_sales (
    tenant_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    store_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    units BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, store_id, sku)
);

CREATE TABLE distributor_purchases (
    tenant_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    distributor TEXT NOT NULL,
    region TEXT NOT NULL,
    sku TEXT NOT NULL,
    units BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day, distributor, region, sku)
);
