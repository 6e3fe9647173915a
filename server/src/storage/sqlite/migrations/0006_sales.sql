-- Imported sales figures (never synced to phones): POS daily sales per store and SKU, and
-- distributor purchases. Keys are the import's upsert keys; `day` is YYYY-MM-DD, so text order is
-- date order.
CREATE TABLE daily_sales (
    tenant_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    store_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    units INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day, store_id, sku)
) WITHOUT ROWID;

CREATE TABLE distributor_purchases (
    tenant_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    distributor TEXT NOT NULL,
    region TEXT NOT NULL,
    sku TEXT NOT NULL,
    units INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day, distributor, region, sku)
) WITHOUT ROWID;
