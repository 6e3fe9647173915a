-- A tenant's time zone (IANA) and currency (ISO 4217): its days and amounts. Existing tenants
-- get UTC and USD, which `fieldsync-server admin set-tenant` changes.
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE tenants ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
