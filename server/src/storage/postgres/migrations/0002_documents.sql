-- Documents, the per-tenant change feed, actor bindings and photo references.
CREATE TABLE documents (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    owner TEXT,
    store_id TEXT,
    region TEXT,
    subject_id TEXT,
    status TEXT,
    snapshot BYTEA NOT NULL,
    heads BYTEA NOT NULL,
    created_seq BIGINT NOT NULL,
    updated_seq BIGINT NOT NULL,
    creator_device TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX documents_by_seq ON documents(tenant_id, updated_seq);
CREATE INDEX documents_by_kind ON documents(tenant_id, kind, owner);
CREATE INDEX documents_by_store ON documents(tenant_id, store_id);
CREATE INDEX documents_by_region ON documents(tenant_id, region, kind);
CREATE INDEX documents_by_subject ON documents(tenant_id, subject_id);

CREATE TABLE change_log (
    tenant_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    doc_id TEXT NOT NULL,
    origin_device TEXT,
    changes BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX change_log_by_doc ON change_log(tenant_id, doc_id, seq);

-- One row per tenant. Every write takes this row's lock to draw its position, so the writes of a
-- tenant commit in feed order on every node (a reader never sees position 11 before 10).
CREATE TABLE feed_positions (
    tenant_id BIGINT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

CREATE TABLE actors (
    tenant_id BIGINT NOT NULL,
    actor BYTEA NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, actor)
);

CREATE TABLE doc_blobs (
    tenant_id BIGINT NOT NULL,
    doc_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sha256, doc_id)
);
CREATE INDEX doc_blobs_by_doc ON doc_blobs(tenant_id, doc_id);
