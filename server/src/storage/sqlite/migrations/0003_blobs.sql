-- Photo metadata. The bytes live in the content-addressed blob folder; a row with complete = 0 is
-- a resumable upload in progress (its bytes are in the `.part` file).
CREATE TABLE blobs (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    width INTEGER,
    height INTEGER,
    uploaded_by_device TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);
