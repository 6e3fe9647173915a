//! [`BlobStore`] on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::SqliteStorage;
use crate::error::{Error, Result};
use crate::storage::{BlobKey, BlobMeta, BlobStore, CompletedBlob};

fn from_sql_size(size: i64) -> u64 {
    u64::try_from(size).unwrap_or(0)
}

fn to_sql_size(size: u64) -> Result<i64> {
    i64::try_from(size).map_err(|_| Error::Storage(format!("blob size {size} does not fit the database")))
}

#[async_trait]
impl BlobStore for SqliteStorage {
    async fn get_blob(&self, tenant_id: i64, sha256: &str) -> Result<Option<BlobMeta>> {
        let sha256 = sha256.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT tenant_id, sha256, size, received, complete, width, height, uploaded_by_device,
                            uploaded_by_user, created_at, updated_at
                     FROM blobs WHERE tenant_id = ?1 AND sha256 = ?2",
                    params![tenant_id, sha256],
                    |row| {
                        Ok(BlobMeta {
                            tenant_id: row.get(0)?,
                            sha256: row.get(1)?,
                            size: from_sql_size(row.get(2)?),
                            received: from_sql_size(row.get(3)?),
                            complete: row.get(4)?,
                            width: row.get(5)?,
                            height: row.get(6)?,
                            uploaded_by_device: row.get(7)?,
                            uploaded_by_user: row.get(8)?,
                            created_at: row.get(9)?,
                            updated_at: row.get(10)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    async fn begin_upload(
        &self,
        tenant_id: i64,
        sha256: &str,
        size: u64,
        device_id: &str,
        user_id: &str,
        now_ms: i64,
    ) -> Result<()> {
        let (sha256, device_id, user_id, size) =
            (sha256.to_owned(), device_id.to_owned(), user_id.to_owned(), to_sql_size(size)?);
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO blobs (tenant_id, sha256, size, received, complete, uploaded_by_device, uploaded_by_user,
                                    created_at, updated_at)
                 VALUES (?1, ?2, ?3, 0, 0, ?4, ?5, ?6, ?6)
                 ON CONFLICT (tenant_id, sha256) DO UPDATE
                 SET size = excluded.size, received = 0, uploaded_by_device = excluded.uploaded_by_device,
                     uploaded_by_user = excluded.uploaded_by_user, created_at = excluded.created_at,
                     updated_at = excluded.updated_at
                 WHERE blobs.complete = 0",
                params![tenant_id, sha256, size, device_id, user_id, now_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn advance_upload(&self, tenant_id: i64, sha256: &str, received: u64, now_ms: i64) -> Result<()> {
        let (sha256, received) = (sha256.to_owned(), to_sql_size(received)?);
        self.write(move |conn| {
            conn.execute(
                "UPDATE blobs SET received = ?3, updated_at = ?4 WHERE tenant_id = ?1 AND sha256 = ?2 AND complete = 0",
                params![tenant_id, sha256, received, now_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn unfinished_upload_bytes(&self, tenant_id: i64, user_id: &str, except_sha256: &str) -> Result<u64> {
        let (user_id, except) = (user_id.to_owned(), except_sha256.to_owned());
        self.read(move |conn| {
            let total: i64 = conn.query_row(
                "SELECT COALESCE(SUM(size), 0) FROM blobs
                 WHERE tenant_id = ?1 AND uploaded_by_user = ?2 AND complete = 0 AND sha256 != ?3",
                params![tenant_id, user_id, except],
                |row| row.get(0),
            )?;
            Ok(from_sql_size(total))
        })
        .await
    }

    async fn stale_uploads(&self, before_ms: i64, limit: u32) -> Result<Vec<BlobKey>> {
        self.read(move |conn| {
            let keys = conn
                .prepare_cached(
                    "SELECT tenant_id, sha256 FROM blobs WHERE complete = 0 AND updated_at < ?1
                     ORDER BY updated_at, tenant_id, sha256 LIMIT ?2",
                )?
                .query_map(params![before_ms, limit], |row| {
                    Ok(BlobKey { tenant_id: row.get(0)?, sha256: row.get(1)? })
                })?
                .collect::<Result<_, _>>()?;
            Ok(keys)
        })
        .await
    }

    async fn expire_upload(&self, tenant_id: i64, sha256: &str, before_ms: i64) -> Result<bool> {
        let sha256 = sha256.to_owned();
        self.write(move |conn| {
            let removed = conn.execute(
                "DELETE FROM blobs WHERE tenant_id = ?1 AND sha256 = ?2 AND complete = 0 AND updated_at < ?3",
                params![tenant_id, sha256, before_ms],
            )?;
            Ok(removed > 0)
        })
        .await
    }

    async fn complete_blob(&self, tenant_id: i64, sha256: &str, blob: CompletedBlob) -> Result<()> {
        let (sha256, size) = (sha256.to_owned(), to_sql_size(blob.size)?);
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO blobs (tenant_id, sha256, size, received, complete, width, height, uploaded_by_device,
                                    uploaded_by_user, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?8)
                 ON CONFLICT (tenant_id, sha256) DO UPDATE
                 SET size = excluded.size, received = excluded.size, complete = 1, width = excluded.width,
                     height = excluded.height, uploaded_by_device = excluded.uploaded_by_device,
                     uploaded_by_user = excluded.uploaded_by_user, updated_at = excluded.updated_at
                 WHERE blobs.complete = 0",
                params![tenant_id, sha256, size, blob.width, blob.height, blob.device_id, blob.user_id, blob.now_ms],
            )?;
            Ok(())
        })
        .await
    }

    async fn discard_upload(&self, tenant_id: i64, sha256: &str) -> Result<()> {
        let sha256 = sha256.to_owned();
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM blobs WHERE tenant_id = ?1 AND sha256 = ?2 AND complete = 0",
                params![tenant_id, sha256],
            )?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::storage::AccountStore;

    #[tokio::test]
    async fn an_upload_advances_completes_and_is_never_discarded_once_complete() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path().join("relay.db")).unwrap();
        let tenant = storage.create_tenant("acme", "UTC", "USD", 1).await.unwrap();
        let sha = "ab".repeat(32);
        assert!(storage.get_blob(tenant.id, &sha).await.unwrap().is_none());
        storage.begin_upload(tenant.id, &sha, 10, "d1", "u1", 1).await.unwrap();
        storage.advance_upload(tenant.id, &sha, 4, 2).await.unwrap();
        let meta = storage.get_blob(tenant.id, &sha).await.unwrap().unwrap();
        assert_eq!((meta.size, meta.received, meta.complete), (10, 4, false));
        let done =
            CompletedBlob { size: 10, width: 3, height: 2, device_id: "d1".into(), user_id: "u1".into(), now_ms: 2 };
        storage.complete_blob(tenant.id, &sha, done).await.unwrap();
        storage.discard_upload(tenant.id, &sha).await.unwrap();
        storage.begin_upload(tenant.id, &sha, 99, "d2", "u2", 3).await.unwrap();
        let meta = storage.get_blob(tenant.id, &sha).await.unwrap().unwrap();
        assert_eq!((meta.size, meta.received, meta.complete, meta.width), (10, 10, true, Some(3)));
    }
}
