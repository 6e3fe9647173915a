-- Indexes that let the overview and the orders page answer from indexes alone at a million orders
-- (docs/read-model.md, "At scale"):
-- approval times by decision time, holding what their filters test (the submission time of a
-- page's window, region and rep of a reach, status, store, the order for a search), only for
-- the orders an approver decided;
DROP INDEX order_rows_decided;
CREATE INDEX order_rows_approvals
    ON order_rows(tenant_id, decided_at, approval_ms, listed_at, region, rep, list_status, store_id, order_id)
    WHERE approval_ms IS NOT NULL;
-- a status's count and value from the index alone (approvals pending, a status filter's totals);
DROP INDEX order_rows_status_listed;
CREATE INDEX order_rows_status_listed ON order_rows(tenant_id, list_status, listed_at, order_id, total_cents);
-- "waiting on me" as a range of the approver's open steps, newest first;
DROP INDEX order_rows_by_approver;
CREATE INDEX order_rows_waiting ON order_rows(tenant_id, current_approver, list_status, listed_at, order_id);
-- the orders holding a SKU, read from the index alone (a product search).
DROP INDEX order_lines_by_sku;
CREATE INDEX order_lines_by_sku ON order_lines(tenant_id, sku, order_id);
-- What a device reported at its last sync: documents changed on it that the relay had not
-- accepted when the round ended (its outbox and quarantine), and when.
ALTER TABLE devices ADD COLUMN unsynced_docs INTEGER;
ALTER TABLE devices ADD COLUMN unsynced_at INTEGER;
