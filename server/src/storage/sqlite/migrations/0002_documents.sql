-- Documents, the per-tenant change feed, actor bindings and photo references.
CREATE TABLE documents (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    owner TEXT,
    store_id TEXT,
    region TEXT,
    subject_id TEXT,
    status TEXT,
    snapshot BLOB NOT NULL,
    heads BLOB NOT NULL,
    created_seq INTEGER NOT NULL,
    updated_seq INTEGER NOT NULL,
    creator_device TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX documents_by_seq ON documents(tenant_id, updated_seq);
CREATE INDEX documents_by_kind ON documents(tenant_id, kind, owner);
CREATE INDEX documents_by_store ON documents(tenant_id, store_id);
CREATE INDEX documents_by_region ON documents(tenant_id, region, kind);
CREATE INDEX documents_by_subject ON documents(tenant_id, subject_id);

CREATE TABLE change_log (
    tenant_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    origin_device TEXT,
    changes BLOB NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX change_log_by_doc ON change_log(tenant_id, doc_id, seq);

CREATE TABLE feed_positions (
    tenant_id INTEGER PRIMARY KEY,
    last_seq INTEGER NOT NULL
);

CREATE TABLE actors (
    tenant_id INTEGER NOT NULL,
    actor BLOB NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, actor)
);

CREATE TABLE doc_blobs (
    tenant_id INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (tenant_id, sha256, doc_id)
);
CREATE INDEX doc_blobs_by_doc ON doc_blobs(tenant_id, doc_id);
