//! Numbered migrations of the relay's SQLite database, tracked in `user_version`. Never edit a
//! released migration: add the next file.

use rusqlite::Connection;

use crate::error::{Error, Result};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_accounts.sql"),
    include_str!("migrations/0002_documents.sql"),
    include_str!("migrations/0003_blobs.sql"),
    include_str!("migrations/0004_jobs.sql"),
    include_str!("migrations/0005_photo_hashes.sql"),
    include_str!("migrations/0006_sales.sql"),
    include_str!("migrations/0007_settings.sql"),
    include_str!("migrations/0008_feed_indexes.sql"),
    include_str!("migrations/0009_blob_uploaders.sql"),
];

/// The schema version this code writes.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

/// Brings the database to [`LATEST`], each migration in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > LATEST {
        return Err(Error::Storage(format!(
            "database schema version {found} is newer than this relay's {LATEST}: upgrade the relay"
        )));
    }
    for number in found..LATEST {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[number as usize])?;
        tx.pragma_update(None, "user_version", number + 1)?;
        tx.commit()?;
    }
    Ok(())
}
