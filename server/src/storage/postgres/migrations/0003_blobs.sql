-- Photo metadata. The bytes live in the content-addressed blob folder, shared by every node
-- (docs/deployment.md); a row with complete = FALSE is a resumable upload in progress.
CREATE TABLE blobs (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    complete BOOLEAN NOT NULL DEFAULT FALSE,
    width BIGINT,
    height BIGINT,
    uploaded_by_device TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);
