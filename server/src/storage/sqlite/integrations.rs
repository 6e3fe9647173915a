//! [`IntegrationStore`] on SQLite (migration `0018_integrations.sql`).

use async_trait::async_trait;
use fieldsync_core::i18n::Message;
use rusqlite::{ErrorCode, OptionalExtension, params};

use super::SqliteStorage;
use crate::error::{Error, Result};
use crate::storage::{ApiKeyRecord, ImportBatchRecord, ImportRun, IntegrationStore, NewApiKey};

const KEY_COLUMNS: &str =
    "id, tenant_id, name, prefix, scopes, created_by, created_at, revoked_at, last_used_at, use_count";

fn key_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        name: row.get(2)?,
        prefix: row.get(3)?,
        scopes: row.get(4)?,
        created_by: row.get(5)?,
        created_at: row.get(6)?,
        revoked_at: row.get(7)?,
        last_used_at: row.get(8)?,
        use_count: row.get(9)?,
    })
}

fn batch_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<ImportBatchRecord> {
    Ok(ImportBatchRecord {
        tenant_id: row.get(0)?,
        idempotency_key: row.get(1)?,
        dataset: row.get(2)?,
        body_sha256: row.get(3)?,
        response: row.get(4)?,
        created_by: row.get(5)?,
        created_at: row.get(6)?,
    })
}

const BATCH_SELECT: &str = "SELECT tenant_id, idempotency_key, dataset, body_sha256, response, created_by, created_at
     FROM import_batches WHERE tenant_id = ?1 AND idempotency_key = ?2";

#[async_trait]
impl IntegrationStore for SqliteStorage {
    async fn record_import_run(&self, tenant_id: i64, run: ImportRun) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO import_runs (tenant_id, actor, dataset, file_name, row_count, outcome, detail, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                tenant_id,
                run.actor,
                run.dataset,
                run.file_name,
                run.rows,
                run.outcome,
                run.detail,
                run.at
            ])?;
            Ok(())
        })
        .await
    }

    async fn import_runs(&self, tenant_id: i64, limit: u32) -> Result<Vec<ImportRun>> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT actor, dataset, file_name, row_count, outcome, detail, at FROM import_runs
                 WHERE tenant_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
            )?;
            let runs = statement
                .query_map(params![tenant_id, limit], |row| {
                    Ok(ImportRun {
                        actor: row.get(0)?,
                        dataset: row.get(1)?,
                        file_name: row.get(2)?,
                        rows: row.get(3)?,
                        outcome: row.get(4)?,
                        detail: row.get(5)?,
                        at: row.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(runs)
        })
        .await
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<ApiKeyRecord> {
        self.write(move |conn| {
            let inserted = conn
                .prepare_cached(&format!(
                    "INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, scopes, created_by, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING {KEY_COLUMNS}"
                ))?
                .query_row(
                    params![
                        key.id,
                        key.tenant_id,
                        key.name,
                        key.prefix,
                        key.secret_hash,
                        key.scopes,
                        key.created_by,
                        key.created_at
                    ],
                    key_from,
                );
            match inserted {
                Ok(record) => Ok(record),
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => {
                    Err(Error::conflict(Message::new("refusal-api-key-live").arg("name", format!("{:?}", key.name))))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn api_keys(&self, tenant_id: i64) -> Result<Vec<ApiKeyRecord>> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?1 ORDER BY created_at DESC, id"
            ))?;
            let rows = statement.query_map([tenant_id], key_from)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn revoke_api_key(&self, tenant_id: i64, id: &str, now: i64) -> Result<Option<ApiKeyRecord>> {
        let id = id.to_owned();
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?3)
                     WHERE tenant_id = ?1 AND id = ?2 RETURNING {KEY_COLUMNS}"
                ))?
                .query_row(params![tenant_id, id, now], key_from)
                .optional()?)
        })
        .await
    }

    async fn use_api_key(&self, secret_hash: &str, now: i64) -> Result<Option<ApiKeyRecord>> {
        let secret_hash = secret_hash.to_owned();
        self.write(move |conn| {
            let used = conn
                .prepare_cached(&format!(
                    "UPDATE api_keys SET last_used_at = ?2, use_count = use_count + 1
                     WHERE secret_hash = ?1 AND revoked_at IS NULL RETURNING {KEY_COLUMNS}"
                ))?
                .query_row(params![secret_hash, now], key_from)
                .optional()?;
            if used.is_some() {
                return Ok(used);
            }
            Ok(conn
                .prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_hash = ?1"))?
                .query_row([secret_hash], key_from)
                .optional()?)
        })
        .await
    }

    async fn import_batch(&self, tenant_id: i64, idempotency_key: &str) -> Result<Option<ImportBatchRecord>> {
        let idempotency_key = idempotency_key.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(BATCH_SELECT)?
                .query_row(params![tenant_id, idempotency_key], batch_from)
                .optional()?)
        })
        .await
    }

    async fn claim_import_batch(&self, batch: ImportBatchRecord) -> Result<ImportBatchRecord> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO import_batches
                     (tenant_id, idempotency_key, dataset, body_sha256, response, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
            )?
            .execute(params![
                batch.tenant_id,
                batch.idempotency_key,
                batch.dataset,
                batch.body_sha256,
                batch.response,
                batch.created_by,
                batch.created_at
            ])?;
            Ok(conn
                .prepare_cached(BATCH_SELECT)?
                .query_row(params![batch.tenant_id, batch.idempotency_key], batch_from)?)
        })
        .await
    }
    async fn finish_import_batch(&self, tenant_id: i64, idempotency_key: &str, response: &str) -> Result<()> {
        let (key, response) = (idempotency_key.to_owned(), response.to_owned());
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE import_batches SET response = ?3 WHERE tenant_id = ?1 AND idempotency_key = ?2",
            )?
            .execute(params![tenant_id, key, response])?;
            Ok(())
        })
        .await
    }

    async fn release_import_batch(&self, tenant_id: i64, idempotency_key: &str, stale_before: i64) -> Result<()> {
        let key = idempotency_key.to_owned();
        self.write(move |conn| {
            conn.prepare_cached(
                "DELETE FROM import_batches
                 WHERE tenant_id = ?1 AND idempotency_key = ?2 AND response IS NULL AND created_at < ?3",
            )?
            .execute(params![tenant_id, key, stale_before])?;
            Ok(())
        })
        .await
    }
}
