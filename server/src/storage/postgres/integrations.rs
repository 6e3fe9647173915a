//! [`IntegrationStore`] on PostgreSQL (migration `0019_integrations.sql`; the import runs'
//! `0021_store_codes_and_admin.sql` and `0025_import_progress.sql`). Every node reads a
//! key from the table on each request: a revocation holds on all of them at once.

use async_trait::async_trait;
use fieldsync_core::i18n::Message;
use tokio_postgres::Row;

use super::{PostgresStorage, is_unique_violation};
use crate::error::{Error, Result};
use crate::storage::integrations::{IMPORT_RUN_COLUMNS, refused_lines_text, stored_counts, stored_refusal};
use crate::storage::{
    ApiKeyRecord, ImportBatchRecord, ImportProgress, ImportRun, ImportRunEnd, IntegrationStore, NewApiKey, NewImportRun,
};

const KEY_COLUMNS: &str =
    "id, tenant_id, name, prefix, scopes, created_by, created_at, revoked_at, last_used_at, use_count";

fn key_from(row: &Row) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.try_get(0)?,
        tenant_id: row.try_get(1)?,
        name: row.try_get(2)?,
        prefix: row.try_get(3)?,
        scopes: row.try_get(4)?,
        created_by: row.try_get(5)?,
        created_at: row.try_get(6)?,
        revoked_at: row.try_get(7)?,
        last_used_at: row.try_get(8)?,
        use_count: row.try_get(9)?,
    })
}

fn batch_from(row: &Row) -> Result<ImportBatchRecord> {
    Ok(ImportBatchRecord {
        tenant_id: row.try_get(0)?,
        idempotency_key: row.try_get(1)?,
        dataset: row.try_get(2)?,
        body_sha256: row.try_get(3)?,
        response: row.try_get(4)?,
        created_by: row.try_get(5)?,
        created_at: row.try_get(6)?,
    })
}

/// A run from a row of [`IMPORT_RUN_COLUMNS`].
fn run_from(row: &Row) -> Result<ImportRun> {
    Ok(ImportRun {
        id: row.try_get(0)?,
        actor: row.try_get(1)?,
        dataset: row.try_get(2)?,
        file_name: row.try_get(3)?,
        rows: row.try_get(4)?,
        outcome: row.try_get(5)?,
        detail: row.try_get(6)?,
        at: row.try_get(7)?,
        updated_at: row.try_get(8)?,
        progress: ImportProgress {
            phase: row.try_get(9)?,
            bytes_read: row.try_get(10)?,
            bytes_total: row.try_get(11)?,
            rows_checked: row.try_get(12)?,
            written: row.try_get(13)?,
            write_total: row.try_get(14)?,
        },
        counts: stored_counts(row.try_get(15)?, row.try_get(16)?, row.try_get(17)?),
        refusal: stored_refusal(row.try_get(18)?, row.try_get(19)?)?,
    })
}

const BATCH_SELECT: &str = "SELECT tenant_id, idempotency_key, dataset, body_sha256, response, created_by, created_at
     FROM import_batches WHERE tenant_id = $1 AND idempotency_key = $2";

#[async_trait]
impl IntegrationStore for PostgresStorage {
    async fn start_import_run(&self, tenant_id: i64, run: NewImportRun) -> Result<i64> {
        let row = self
            .client()
            .await?
            .query_one(
                "INSERT INTO import_runs
                     (tenant_id, actor, dataset, file_name, row_count, outcome, detail, at, updated_at)
                 VALUES ($1, $2, $3, $4, 0, 'running', '', $5, $5) RETURNING id",
                &[&tenant_id, &run.actor, &run.dataset, &run.file_name, &run.at],
            )
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn update_import_run(&self, tenant_id: i64, id: i64, progress: ImportProgress, at: i64) -> Result<bool> {
        let changed = self
            .client()
            .await?
            .execute(
                "UPDATE import_runs SET phase = $3, bytes_read = $4, bytes_total = $5, rows_checked = $6,
                     written = $7, write_total = $8, updated_at = $9
                 WHERE tenant_id = $1 AND id = $2 AND outcome = 'running'",
                &[
                    &tenant_id,
                    &id,
                    &progress.phase,
                    &progress.bytes_read,
                    &progress.bytes_total,
                    &progress.rows_checked,
                    &progress.written,
                    &progress.write_total,
                    &at,
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn finish_import_run(&self, tenant_id: i64, id: i64, end: ImportRunEnd) -> Result<bool> {
        let lines = end.refusal.as_ref().map(refused_lines_text).transpose()?;
        let refused = end.refusal.as_ref().map(|r| i64::try_from(r.count).unwrap_or(i64::MAX));
        let progress = &end.progress;
        let counts = end.counts;
        let changed = self
            .client()
            .await?
            .execute(
                "UPDATE import_runs SET outcome = $3, row_count = $4, detail = $5, phase = $6, bytes_read = $7,
                     bytes_total = $8, rows_checked = $9, written = $10, write_total = $11,
                     created_count = $12, updated_count = $13, unchanged_count = $14,
                     refused_count = $15, refused_lines = $16, updated_at = $17
                 WHERE tenant_id = $1 AND id = $2 AND outcome = 'running'",
                &[
                    &tenant_id,
                    &id,
                    &end.outcome,
                    &end.rows,
                    &end.detail,
                    &progress.phase,
                    &progress.bytes_read,
                    &progress.bytes_total,
                    &progress.rows_checked,
                    &progress.written,
                    &progress.write_total,
                    &counts.map(|c| c.created),
                    &counts.map(|c| c.updated),
                    &counts.map(|c| c.unchanged),
                    &refused,
                    &lines,
                    &end.at,
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn import_run(&self, tenant_id: i64, id: i64) -> Result<Option<ImportRun>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {IMPORT_RUN_COLUMNS} FROM import_runs WHERE tenant_id = $1 AND id = $2"),
                &[&tenant_id, &id],
            )
            .await?;
        row.as_ref().map(run_from).transpose()
    }

    async fn import_runs(&self, tenant_id: i64, limit: u32) -> Result<Vec<ImportRun>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {IMPORT_RUN_COLUMNS} FROM import_runs
                     WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2"
                ),
                &[&tenant_id, &i64::from(limit)],
            )
            .await?;
        rows.iter().map(run_from).collect()
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKeyRecord> {
        let client = self.client().await?;
        let inserted = client
            .query_one(
                &format!(
                    "INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, scopes, created_by, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {KEY_COLUMNS}"
                ),
                &[
                    &key.id,
                    &key.tenant_id,
                    &key.name,
                    &key.prefix,
                    &key.secret_hash,
                    &key.scopes,
                    &key.created_by,
                    &key.created_at,
                ],
            )
            .await;
        match inserted {
            Ok(row) => key_from(&row),
            Err(e) if is_unique_violation(&e) => {
                Err(Error::conflict(Message::new("refusal-api-key-live").arg("name", format!("{:?}", key.name))))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn api_keys(&self, tenant_id: i64) -> Result<Vec<ApiKeyRecord>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id"),
                &[&tenant_id],
            )
            .await?;
        rows.iter().map(key_from).collect()
    }

    async fn revoke_api_key(&self, tenant_id: i64, id: &str, now: i64) -> Result<Option<ApiKeyRecord>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3)
                     WHERE tenant_id = $1 AND id = $2 RETURNING {KEY_COLUMNS}"
                ),
                &[&tenant_id, &id, &now],
            )
            .await?;
        row.as_ref().map(key_from).transpose()
    }

    async fn use_api_key(&self, secret_hash: &str, now: i64) -> Result<Option<ApiKeyRecord>> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "UPDATE api_keys SET last_used_at = $2, use_count = use_count + 1
                 WHERE secret_hash = $1 AND revoked_at IS NULL RETURNING {KEY_COLUMNS}"
            ))
            .await?;
        if let Some(row) = client.query_opt(&statement, &[&secret_hash, &now]).await? {
            return key_from(&row).map(Some);
        }
        let statement =
            client.prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_hash = $1")).await?;
        client.query_opt(&statement, &[&secret_hash]).await?.as_ref().map(key_from).transpose()
    }

    async fn import_batch(&self, tenant_id: i64, idempotency_key: &str) -> Result<Option<ImportBatchRecord>> {
        let row = self.client().await?.query_opt(BATCH_SELECT, &[&tenant_id, &idempotency_key]).await?;
        row.as_ref().map(batch_from).transpose()
    }

    async fn claim_import_batch(&self, batch: ImportBatchRecord) -> Result<ImportBatchRecord> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO import_batches
                     (tenant_id, idempotency_key, dataset, body_sha256, response, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
                &[
                    &batch.tenant_id,
                    &batch.idempotency_key,
                    &batch.dataset,
                    &batch.body_sha256,
                    &batch.response,
                    &batch.created_by,
                    &batch.created_at,
                ],
            )
            .await?;
        let row = client.query_one(BATCH_SELECT, &[&batch.tenant_id, &batch.idempotency_key]).await?;
        batch_from(&row)
    }

    async fn finish_import_batch(&self, tenant_id: i64, idempotency_key: &str, response: &str) -> Result<()> {
        self.client()
            .await?
            .execute(
                "UPDATE import_batches SET response = $3 WHERE tenant_id = $1 AND idempotency_key = $2",
                &[&tenant_id, &idempotency_key, &response],
            )
            .await?;
        Ok(())
    }

    async fn release_import_batch(&self, tenant_id: i64, idempotency_key: &str, stale_before: i64) -> Result<()> {
        self.client()
            .await?
            .execute(
                "DELETE FROM import_batches
                 WHERE tenant_id = $1 AND idempotency_key = $2 AND response IS NULL AND created_at < $3",
                &[&tenant_id, &idempotency_key, &stale_before],
            )
            .await?;
        Ok(())
    }
}
