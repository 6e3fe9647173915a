-- An import run is recorded when it starts (outcome 'running') and shows its progress while it
-- runs (the dashboard's run page): the phase, bytes read of the file, rows checked, items written
-- of their total, and when the row was last written (a running run whose row went quiet for
-- minutes was interrupted). Its end keeps what an applied run counted and a refused run's bad
-- lines (a JSON array of [line, message]), so the run page shows what the imports page showed.
-- Runs recorded before have neither (NULL) and were last written when they were recorded.
ALTER TABLE import_runs ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE import_runs SET updated_at = at;
ALTER TABLE import_runs ADD COLUMN phase TEXT NOT NULL DEFAULT '';
ALTER TABLE import_runs ADD COLUMN bytes_read INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_runs ADD COLUMN bytes_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_runs ADD COLUMN rows_checked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_runs ADD COLUMN written INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_runs ADD COLUMN write_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_runs ADD COLUMN created_count INTEGER;
ALTER TABLE import_runs ADD COLUMN updated_count INTEGER;
ALTER TABLE import_runs ADD COLUMN unchanged_count INTEGER;
ALTER TABLE import_runs ADD COLUMN refused_count INTEGER;
ALTER TABLE import_runs ADD COLUMN refused_lines TEXT;
