-- The language a person reads the dashboard in (issue #19): a tenant's default and each user's
-- own choice, as BCP 47 tags (`en`, `zh-CN`). NULL means "not chosen": a user without one reads
-- the tenant's, and a tenant without one the browser's Accept-Language (then English).
ALTER TABLE tenants ADD COLUMN language TEXT;
ALTER TABLE users ADD COLUMN language TEXT;
