-- Perceptual hashes of scored inspection photos, computed by the relay from the photo bytes, for
-- reused-photo detection across the tenant's visits. Rewritten for an inspection each time it is
-- scored.
CREATE TABLE photo_hashes (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    inspection_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    phash TEXT NOT NULL,
    store_id TEXT NOT NULL,
    captured_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, inspection_id, sha256)
);
CREATE INDEX photo_hashes_by_sha ON photo_hashes(tenant_id, sha256);
