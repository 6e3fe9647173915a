-- The read model as lists and figures ask it (crate::services, storage/queries.rs): the time and
-- status a list sorts and filters orders by, computed by the database from the columns the order
-- and its review own; indexes for keyset pages newest first under each filter; stores, products
-- and photo verdicts, so that names, search and photo counts come from SQL too; an alert's
-- detail. The job queued at the end derives the new tables from the stored documents.
ALTER TABLE order_rows ADD COLUMN listed_at BIGINT
    GENERATED ALWAYS AS (COALESCE(submitted_at, created_at)) STORED;
-- draft, submitted (not reviewed for this submission yet), or the review's outcome.
ALTER TABLE order_rows ADD COLUMN list_status TEXT
    GENERATED ALWAYS AS (CASE WHEN status = 'submitted' AND reviewed_submission = submission THEN outcome ELSE status END) STORED;
DROP INDEX order_rows_by_created;
DROP INDEX order_rows_by_submitted;
DROP INDEX order_rows_by_rep;
DROP INDEX order_rows_by_store;
DROP INDEX order_rows_by_region;
CREATE INDEX order_rows_listed ON order_rows(tenant_id, listed_at, order_id);
CREATE INDEX order_rows_status_listed ON order_rows(tenant_id, list_status, listed_at, order_id);
CREATE INDEX order_rows_rep_listed ON order_rows(tenant_id, rep, listed_at, order_id);
CREATE INDEX order_rows_store_listed ON order_rows(tenant_id, store_id, listed_at, order_id);
CREATE INDEX order_rows_region_listed ON order_rows(tenant_id, region, listed_at, order_id);
CREATE INDEX order_rows_region_status ON order_rows(tenant_id, region, list_status, listed_at);
CREATE INDEX order_rows_decided ON order_rows(tenant_id, decided_at);
CREATE INDEX order_lines_by_order ON order_lines(tenant_id, order_id, sku);

DROP INDEX inspection_rows_by_check_in;
DROP INDEX inspection_rows_by_store;
DROP INDEX inspection_rows_by_region;
DROP INDEX inspection_rows_by_supervisor;
CREATE INDEX inspection_rows_listed ON inspection_rows(tenant_id, check_in_at, inspection_id);
CREATE INDEX inspection_rows_store_listed ON inspection_rows(tenant_id, store_id, check_in_at, inspection_id);
CREATE INDEX inspection_rows_region_listed ON inspection_rows(tenant_id, region, check_in_at, inspection_id);
CREATE INDEX inspection_rows_supervisor_listed ON inspection_rows(tenant_id, supervisor, check_in_at, inspection_id);

ALTER TABLE alert_rows ADD COLUMN detail TEXT;
ALTER TABLE inspection_rows ADD COLUMN check_in_latitude DOUBLE PRECISION;
ALTER TABLE inspection_rows ADD COLUMN check_in_longitude DOUBLE PRECISION;
CREATE INDEX alert_rows_state_raised ON alert_rows(tenant_id, state, raised_at, inbox_id, alert_id);

CREATE TABLE photo_rows (
    tenant_id BIGINT NOT NULL,
    inspection_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    trust TEXT,
    quality DOUBLE PRECISION,
    reasons TEXT,
    PRIMARY KEY (tenant_id, inspection_id, sha256)
);
CREATE INDEX photo_rows_by_trust ON photo_rows(tenant_id, trust);

CREATE TABLE store_rows (
    tenant_id BIGINT NOT NULL,
    store_id TEXT NOT NULL,
    name TEXT,
    address TEXT,
    region TEXT,
    customer_id TEXT,
    tier TEXT,
    rep TEXT,
    supervisor TEXT,
    active BIGINT,
    PRIMARY KEY (tenant_id, store_id)
);
CREATE INDEX store_rows_by_region ON store_rows(tenant_id, region);
CREATE INDEX store_rows_by_rep ON store_rows(tenant_id, rep);

CREATE TABLE product_rows (
    tenant_id BIGINT NOT NULL,
    catalog_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    name TEXT,
    category TEXT,
    active BIGINT,
    PRIMARY KEY (tenant_id, catalog_id, sku)
);

INSERT INTO jobs (tenant_id, kind, key, payload, run_after, created_at)
SELECT DISTINCT tenant_id, 'rebuild-projections', 'read-model-v2', '{}', 0, 0 FROM documents
ON CONFLICT (tenant_id, kind, key) DO NOTHING;
