-- A tenant's time zone (IANA) and currency (ISO 4217), as SQLite's 0011_tenant_locale.sql.
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE tenants ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
