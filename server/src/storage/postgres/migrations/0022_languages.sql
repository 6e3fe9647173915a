-- The language a person reads the dashboard in, as SQLite's 0021_languages.sql.
ALTER TABLE tenants ADD COLUMN language TEXT;
ALTER TABLE users ADD COLUMN language TEXT;
