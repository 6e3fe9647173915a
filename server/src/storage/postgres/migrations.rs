//! Numbered migrations of the relay's PostgreSQL database, tracked in `schema_version` (one row
//! per applied migration). Never edit a released migration: add the next file.
//!
//! Nodes that start together all call [`migrate`]; a session advisory lock makes them take turns,
//! so each migration runs once and the others find the schema ready.

use crate::error::{Error, Result};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_accounts.sql"),
    include_str!("migrations/0002_documents.sql"),
    include_str!("migrations/0003_blobs.sql"),
    include_str!("migrations/0004_jobs.sql"),
    include_str!("migrations/0005_photo_hashes.sql"),
    include_str!("migrations/0006_sales.sql"),
    include_str!("migrations/0007_settings.sql"),
    include_str!("migrations/0008_login_failures.sql"),
    include_str!("migrations/0009_feed_indexes.sql"),
    include_str!("migrations/0010_quarantine.sql"),
    include_str!("migrations/0011_blob_uploaders.sql"),
    include_str!("migrations/0012_tenant_locale.sql"),
    include_str!("migrations/0013_order_numbers.sql"),
    include_str!("migrations/0014_read_model.sql"),
    include_str!("migrations/0015_read_model_queries.sql"),
    // 0016 is main's (read-model indexes), merged before this one.
    include_str!("migrations/0016_read_model_at_scale.sql"),
    include_str!("migrations/0017_approval_deadlines.sql"),
    include_str!("migrations/0018_events.sql"),
    include_str!("migrations/0019_integrations.sql"),
    include_str!("migrations/0020_alert_triage_and_photo_reviews.sql"),
    include_str!("migrations/0021_store_codes_and_admin.sql"),
    include_str!("migrations/0022_languages.sql"),
    include_str!("migrations/0023_alert_texts.sql"),
    // 0024 is main's, merged before this one.
    include_str!("migrations/0024_import_progress.sql"),
    include_str!("migrations/0025_stock_reservations.sql"),
];

/// The schema version this code writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// Key of the advisory lock held while migrating ("fsmigrat" in ASCII).
const LOCK_KEY: i64 = 0x6673_6d69_6772_6174;

/// Brings the database to [`LATEST`], each migration in its own transaction, under the advisory
/// lock.
pub async fn migrate(client: &mut deadpool_postgres::Object) -> Result<()> {
    client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY]).await?;
    let outcome = migrate_locked(client).await;
    // A dropped connection releases the lock too; unlock explicitly so the pooled connection
    // does not keep it.
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await;
    outcome?;
    unlocked?;
    Ok(())
}

async fn migrate_locked(client: &mut deadpool_postgres::Object) -> Result<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (
                 version BIGINT PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await?;
    let found: i64 = client.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[]).await?.get(0);
    if found > LATEST {
        return Err(Error::Storage(format!(
            "database schema version {found} is newer than this relay's {LATEST}: upgrade the relay"
        )));
    }
    for number in found..LATEST {
        let Some(sql) = usize::try_from(number).ok().and_then(|i| MIGRATIONS.get(i)) else { break };
        let tx = client.transaction().await?;
        tx.batch_execute(sql)
            .await
            .map_err(|e| Error::Storage(format!("migration {} failed: {}", number + 1, Error::from(e))))?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&(number + 1)]).await?;
        tx.commit().await?;
        tracing::info!(version = number + 1, "database migrated");
    }
    Ok(())
}
