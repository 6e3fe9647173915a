-- HQ's admin pages (issue #19): a store's short code in the read model, a user's display name,
-- and the history of CSV imports (who, when, which dataset, how many rows, what came of it).
ALTER TABLE store_rows ADD COLUMN code TEXT NOT NULL DEFAULT '';
CREATE INDEX store_rows_by_code ON store_rows(tenant_id, code);

ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';

CREATE TABLE import_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL,
    actor TEXT NOT NULL,
    dataset TEXT NOT NULL,
    file_name TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX import_runs_by_time ON import_runs(tenant_id, at);
