-- Documents taken out of service because they break the limits on what a document may become
-- (fieldsync_core::doc::limits): moved here whole, with the reason, so no reader ever loads them
-- again and an operator can still look at them. The job queued below checks every document
-- stored before the limits existed.
CREATE TABLE quarantined_documents (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    owner TEXT,
    snapshot BYTEA NOT NULL,
    reason TEXT NOT NULL,
    quarantined_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

INSERT INTO jobs (tenant_id, kind, key, payload, run_after, created_at)
SELECT DISTINCT tenant_id, 'check-documents', 'limits-v1', '{}', 0, 0 FROM documents
ON CONFLICT (tenant_id, kind, key) DO NOTHING;
