-- The change feed and the manifest reach a device's documents through its scope's lookups: one
-- per kind, by owner, by region or the whole kind (crate::scope::Lookup). Each index ends with
-- updated_seq, so that the feed ranges over the documents changed after the device's position
-- instead of walking the tenant's change log; the list pages read them newest first.
DROP INDEX documents_by_seq;
DROP INDEX documents_by_kind;
DROP INDEX documents_by_region;
CREATE INDEX documents_by_kind_seq ON documents(tenant_id, kind, updated_seq);
CREATE INDEX documents_by_owner_seq ON documents(tenant_id, kind, owner, updated_seq);
CREATE INDEX documents_by_region_seq ON documents(tenant_id, kind, region, updated_seq);
