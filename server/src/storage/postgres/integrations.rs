//! [`IntegrationStore`] on PostgreSQL (migration `0019_integrations.sql`). Every node reads a
//! key from the table on each request: a revocation holds on all of them at once.

use async_trait::async_trait;
use fieldsync_core::i18n::Message;
use tokio_postgres::Row;

use super::{PostgresStorage, is_unique_violation};
use crate::error::{Error, Result};
use crate::storage::{ApiKeyRecord, ImportBatchRecord, ImportRun, IntegrationStore, NewApiKey};

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

const BATCH_SELECT: &str = "SELECT tenant_id, idempotency_key, dataset, body_sha256, response, created_by, created_at
     FROM import_batches WHERE tenant_id = $1 AND idempotency_key = $2";

#[async_trait]
impl IntegrationStore for PostgresStorage {
    async fn record_import_run(&self, tenant_id: i64, run: ImportRun) -> Result<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO import_runs (tenant_id, actor, dataset, file_name, row_count, outcome, detail, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&tenant_id, &run.actor, &run.dataset, &run.file_name, &run.rows, &run.outcome, &run.detail, &run.at],
            )
            .await?;
        Ok(())
    }

    async fn import_runs(&self, tenant_id: i64, limit: u32) -> Result<Vec<ImportRun>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT actor, dataset, file_name, row_count, outcome, detail, at FROM import_runs
                 WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
                &[&tenant_id, &i64::from(limit)],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ImportRun {
                    actor: row.try_get(0)?,
                    dataset: row.try_get(1)?,
                    file_name: row.try_get(2)?,
                    rows: row.try_get(3)?,
                    outcome: row.try_get(4)?,
                    detail: row.try_get(5)?,
                    at: row.try_get(6)?,
                })
            })
            .collect()
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
