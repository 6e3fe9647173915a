-- Stock reservations (storage/reservations.rs): the units each order holds in a region's
-- inventory, each SKU's total, and a version per inventory that every change moves. They were
-- kept in the inventory document, where every order added an entry that synced to every phone of
-- the region for good; the relay moves a document's entries here the first time it reserves in it.
CREATE TABLE stock_reservations (
    tenant_id BIGINT NOT NULL,
    inventory_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    units BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, inventory_id, order_id, sku)
);

CREATE TABLE stock_reserved (
    tenant_id BIGINT NOT NULL,
    inventory_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    units BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, inventory_id, sku)
);

CREATE TABLE stock_reservation_versions (
    tenant_id BIGINT NOT NULL,
    inventory_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, inventory_id)
);
