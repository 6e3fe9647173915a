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
    include_str!("migrations/0009_quarantine.sql"),
    include_str!("migrations/0010_blob_uploaders.sql"),
    include_str!("migrations/0011_tenant_locale.sql"),
    include_str!("migrations/0012_order_numbers.sql"),
    include_str!("migrations/0013_read_model.sql"),
    include_str!("migrations/0014_read_model_queries.sql"),
    // 0015 is main's (read-model indexes), merged before this one.
    include_str!("migrations/0015_read_model_at_scale.sql"),
    include_str!("migrations/0016_approval_deadlines.sql"),
    include_str!("migrations/0017_events.sql"),
    include_str!("migrations/0018_integrations.sql"),
    include_str!("migrations/0019_alert_triage_and_photo_reviews.sql"),
    include_str!("migrations/0020_store_codes_and_admin.sql"),
    include_str!("migrations/0021_languages.sql"),
    include_str!("migrations/0022_alert_texts.sql"),
    // 0023 is main's, merged before this one.
    include_str!("migrations/0023_import_progress.sql"),
    include_str!("migrations/0024_stock_reservations.sql"),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tenants_created_before_time_zones_existed_count_days_in_utc_and_amounts_in_dollars() {
        let mut conn = Connection::open_in_memory().unwrap();
        let before = MIGRATIONS.iter().position(|sql| sql.contains("ADD COLUMN time_zone")).unwrap();
        for sql in &MIGRATIONS[..before] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", before as u32).unwrap();
        conn.execute_batch("INSERT INTO tenants (id, name, created_at) VALUES (1, 'acme', 1);").unwrap();
        migrate(&mut conn).unwrap();
        let (zone, currency): (String, String) = conn
            .query_row("SELECT time_zone, currency FROM tenants WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!((zone.as_str(), currency.as_str()), ("UTC", "USD"));
    }

    #[test]
    fn photos_stored_before_uploaders_were_recorded_get_the_user_of_their_device() {
        let mut conn = Connection::open_in_memory().unwrap();
        let before = MIGRATIONS.iter().position(|sql| sql.contains("uploaded_by_user")).unwrap();
        for sql in &MIGRATIONS[..before] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", before as u32).unwrap();
        conn.execute_batch(
            "INSERT INTO tenants (id, name, created_at) VALUES (1, 'acme', 1);
             INSERT INTO users (id, tenant_id, username, password_hash, role, region, created_at)
                 VALUES ('u1', 1, 'sofia', 'h', 'supervisor', 'north', 1);
             INSERT INTO devices (id, tenant_id, user_id, name, created_at) VALUES ('d1', 1, 'u1', 'phone', 1);
             INSERT INTO blobs (tenant_id, sha256, size, received, complete, uploaded_by_device, created_at)
                 VALUES (1, 'aa', 10, 10, 1, 'd1', 5), (1, 'bb', 10, 3, 0, 'unknown-device', 7);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let rows: Vec<(String, Option<String>, i64)> = conn
            .prepare("SELECT sha256, uploaded_by_user, updated_at FROM blobs ORDER BY sha256")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [("aa".to_owned(), Some("u1".to_owned()), 5), ("bb".to_owned(), None, 7)]);
    }

    #[test]
    fn a_database_with_documents_from_before_the_read_model_queues_one_rebuild_per_tenant() {
        let mut conn = Connection::open_in_memory().unwrap();
        let before = MIGRATIONS.iter().position(|sql| sql.contains("CREATE TABLE order_rows")).unwrap();
        for sql in &MIGRATIONS[..before] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", before as u32).unwrap();
        conn.execute_batch(
            "INSERT INTO tenants (id, name, created_at) VALUES (1, 'acme', 1), (2, 'globex', 1), (3, 'empty', 1);",
        )
        .unwrap();
        for (tenant, id) in [(1, "a"), (1, "b"), (2, "c")] {
            conn.execute(
                "INSERT INTO documents (tenant_id, id, kind, snapshot, heads, created_seq, updated_seq, updated_at)
                 VALUES (?1, ?2, 'order', x'', x'', 1, 1, 0)",
                rusqlite::params![tenant, id],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let jobs: Vec<(i64, String)> = conn
            .prepare("SELECT DISTINCT tenant_id, kind FROM jobs WHERE kind = 'rebuild-projections' ORDER BY tenant_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let rebuild = "rebuild-projections".to_owned();
        assert_eq!(jobs, [(1, rebuild.clone()), (2, rebuild)]);
    }
}
