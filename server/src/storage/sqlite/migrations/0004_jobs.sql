-- The persisted job queue: reviews, scoring, alerts. A job is keyed by what it works on (a
-- document and its heads), so enqueueing the same work twice is a no-op.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    run_after INTEGER NOT NULL,
    leased_by TEXT,
    leased_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    UNIQUE (tenant_id, kind, key)
);
CREATE INDEX jobs_ready ON jobs(state, run_after);
