//! [`IntegrationStore`] on SQLite (migrations `0018_integrations.sql`; the import runs'
//! `0020_store_codes_and_admin.sql` and `0024_import_progress.sql`).

use async_trait::async_trait;
use fieldsync_core::i18n::Message;
use rusqlite::{ErrorCode, OptionalExtension, params};

use super::SqliteStorage;
use crate::error::{Error, Result};
use crate::storage::integrations::{IMPORT_RUN_COLUMNS, refused_lines_text, stored_counts, stored_refusal};
use crate::storage::{
    ApiKeyRecord, ImportBatchRecord, ImportProgress, ImportRun, ImportRunEnd, IntegrationStore, NewApiKey, NewImportRun,
};

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

/// A run from a row of [`IMPORT_RUN_COLUMNS`].
fn run_from(row: &rusqlite::Row<'_>) -> Result<ImportRun> {
    Ok(ImportRun {
        id: row.get(0)?,
        actor: row.get(1)?,
        dataset: row.get(2)?,
        file_name: row.get(3)?,
        rows: row.get(4)?,
        outcome: row.get(5)?,
        detail: row.get(6)?,
        at: row.get(7)?,
        updated_at: row.get(8)?,
        progress: ImportProgress {
            phase: row.get(9)?,
            bytes_read: row.get(10)?,
            bytes_total: row.get(11)?,
            rows_checked: row.get(12)?,
            written: row.get(13)?,
            write_total: row.get(14)?,
        },
        counts: stored_counts(row.get(15)?, row.get(16)?, row.get(17)?),
        refusal: stored_refusal(row.get(18)?, row.get(19)?)?,
    })
}

const BATCH_SELECT: &str = "SELECT tenant_id, idempotency_key, dataset, body_sha256, response, created_by, created_at
     FROM import_batches WHERE tenant_id = ?1 AND idempotency_key = ?2";

#[async_trait]
impl IntegrationStore for SqliteStorage {
    async fn start_import_run(&self, tenant_id: i64, run: NewImportRun) -> Result<i64> {
        self.write(move |conn| {
            let id = conn
                .prepare_cached(
                    "INSERT INTO import_runs
                         (tenant_id, actor, dataset, file_name, row_count, outcome, detail, at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, 0, 'running', '', ?5, ?5) RETURNING id",
                )?
                .query_row(params![tenant_id, run.actor, run.dataset, run.file_name, run.at], |row| row.get(0))?;
            Ok(id)
        })
        .await
    }

    async fn update_import_run(&self, tenant_id: i64, id: i64, progress: ImportProgress, at: i64) -> Result<bool> {
        self.write(move |conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE import_runs SET phase = ?3, bytes_read = ?4, bytes_total = ?5, rows_checked = ?6,
                         written = ?7, write_total = ?8, updated_at = ?9
                     WHERE tenant_id = ?1 AND id = ?2 AND outcome = 'running'",
                )?
                .execute(params![
                    tenant_id,
                    id,
                    progress.phase,
                    progress.bytes_read,
                    progress.bytes_total,
                    progress.rows_checked,
                    progress.written,
                    progress.write_total,
                    at
                ])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn finish_import_run(&self, tenant_id: i64, id: i64, end: ImportRunEnd) -> Result<bool> {
        let lines = end.refusal.as_ref().map(refused_lines_text).transpose()?;
        self.write(move |conn| {
            let progress = &end.progress;
            let counts = end.counts;
            let changed = conn
                .prepare_cached(
                    "UPDATE import_runs SET outcome = ?3, row_count = ?4, detail = ?5, phase = ?6, bytes_read = ?7,
                         bytes_total = ?8, rows_checked = ?9, written = ?10, write_total = ?11,
                         created_count = ?12, updated_count = ?13, unchanged_count = ?14,
                         refused_count = ?15, refused_lines = ?16, updated_at = ?17
                     WHERE tenant_id = ?1 AND id = ?2 AND outcome = 'running'",
                )?
                .execute(params![
                    tenant_id,
                    id,
                    end.outcome,
                    end.rows,
                    end.detail,
                    progress.phase,
                    progress.bytes_read,
                    progress.bytes_total,
                    progress.rows_checked,
                    progress.written,
                    progress.write_total,
                    counts.map(|c| c.created),
                    counts.map(|c| c.updated),
                    counts.map(|c| c.unchanged),
                    end.refusal.as_ref().map(|r| i64::try_from(r.count).unwrap_or(i64::MAX)),
                    lines,
                    end.at
                ])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn import_run(&self, tenant_id: i64, id: i64) -> Result<Option<ImportRun>> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {IMPORT_RUN_COLUMNS} FROM import_runs WHERE tenant_id = ?1 AND id = ?2"
            ))?;
            let mut rows = statement.query(params![tenant_id, id])?;
            rows.next()?.map(run_from).transpose()
        })
        .await
    }

    async fn import_runs(&self, tenant_id: i64, limit: u32) -> Result<Vec<ImportRun>> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {IMPORT_RUN_COLUMNS} FROM import_runs
                 WHERE tenant_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2"
            ))?;
            let mut rows = statement.query(params![tenant_id, limit])?;
            let mut runs = Vec::new();
            while let Some(row) = rows.next()? {
                runs.push(run_from(row)?);
            }
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
