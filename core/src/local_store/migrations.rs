//! Numbered schema migrations of the local database, tracked in SQLite's `user_version`.
//!
//! Migration N takes a database at version N-1 to version N. Never edit a released migration:
//! add the next one. A test checks that a database upgraded from every old version has exactly
//! the schema of a fresh one.

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Migration 1: documents, their incremental chunks, the list index, the outbox, key-value meta.
const V1: &str = "
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    snapshot BLOB NOT NULL,
    snapshot_len INTEGER NOT NULL,
    chunks_len INTEGER NOT NULL DEFAULT 0,
    heads TEXT NOT NULL
);
CREATE TABLE chunks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    data BLOB NOT NULL
);
CREATE INDEX chunks_by_doc ON chunks(doc_id, seq);
CREATE TABLE doc_index (
    id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    status TEXT,
    store_id TEXT,
    owner TEXT,
    subject_id TEXT,
    created_at INTEGER,
    updated_at INTEGER,
    amount_cents INTEGER,
    item_count INTEGER
);
CREATE INDEX doc_index_by_status ON doc_index(kind, status, updated_at);
CREATE INDEX doc_index_by_store ON doc_index(kind, store_id, updated_at);
CREATE INDEX doc_index_by_subject ON doc_index(kind, subject_id);
CREATE TABLE doc_outbox (
    doc_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    changed_at INTEGER NOT NULL
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Migration 2: photo bytes (content-addressed) and the photo upload queue, kept apart from the
/// document outbox so that pending photos never hold back orders.
const V2: &str = "
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    thumbnail BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE photo_outbox (
    sha256 TEXT PRIMARY KEY REFERENCES blobs(sha256) ON DELETE CASCADE,
    byte_size INTEGER NOT NULL,
    uploaded_bytes INTEGER NOT NULL DEFAULT 0,
    queued_at INTEGER NOT NULL
);
";

/// Migration 3: sync state. The heads the relay is known to hold per document (a push sends only
/// what came after them), and documents the relay refused, kept aside until the user acts.
const V3: &str = "
CREATE TABLE synced_heads (
    doc_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    heads TEXT NOT NULL
);
CREATE TABLE quarantine (
    doc_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    quarantined_at INTEGER NOT NULL
);
";

/// Every migration, in order; the database version is the number applied.
const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// The schema version this code writes.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

/// The database's schema version.
pub fn version(conn: &Connection) -> Result<u32> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Brings the database to [`LATEST`], each migration in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, LATEST)
}

/// Brings the database to `target` (tests use this to build old databases).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<()> {
    let found = version(conn)?;
    if found > LATEST {
        return Err(Error::NewerDatabase { found, supported: LATEST });
    }
    for number in found..target.min(LATEST) {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[number as usize])?;
        tx.pragma_update(None, "user_version", number + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn schema(conn: &Connection) -> Vec<(String, String, String)> {
        let mut stmt =
            conn.prepare("SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn a_database_upgraded_from_every_old_version_equals_a_fresh_one() {
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();
        for start in 1..LATEST {
            let mut old = Connection::open_in_memory().unwrap();
            migrate_to(&mut old, start).unwrap();
            old.execute(
                "INSERT INTO documents (id, kind, snapshot, snapshot_len, heads) VALUES ('d', 'order', x'00', 1, '')",
                [],
            )
            .unwrap();
            migrate(&mut old).unwrap();
            assert_eq!(version(&old).unwrap(), LATEST);
            assert_eq!(schema(&old), schema(&fresh), "upgrade from version {start}");
            let kept: String = old.query_row("SELECT kind FROM documents WHERE id = 'd'", [], |r| r.get(0)).unwrap();
            assert_eq!(kept, "order");
        }
    }

    #[test]
    fn a_database_from_newer_code_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1).unwrap();
        assert!(matches!(migrate(&mut conn), Err(Error::NewerDatabase { .. })));
    }
}
