//! [`BlobStore`] on PostgreSQL.

use async_trait::async_trait;

use super::{PostgresStorage, to_u64};
use crate::error::{Error, Result};
use crate::storage::{BlobKey, BlobMeta, BlobStore, CompletedBlob};

fn to_sql_size(size: u64) -> Result<i64> {
    i64::try_from(size).map_err(|_| Error::Storage(format!("blob size {size} does not fit the database")))
}

fn dimension(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}

#[async_trait]
impl BlobStore for PostgresStorage {
    async fn get_blob(&self, tenant_id: i64, sha256: &str) -> Result<Option<BlobMeta>> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT tenant_id, sha256, size, received, complete, width, height, uploaded_by_device,
                        uploaded_by_user, created_at, updated_at
                 FROM blobs WHERE tenant_id = $1 AND sha256 = $2",
            )
            .await?;
        let Some(row) = client.query_opt(&statement, &[&tenant_id, &sha256]).await? else { return Ok(None) };
        Ok(Some(BlobMeta {
            tenant_id: row.try_get(0)?,
            sha256: row.try_get(1)?,
            size: to_u64(row.try_get(2)?),
            received: to_u64(row.try_get(3)?),
            complete: row.try_get(4)?,
            width: dimension(row.try_get(5)?),
            height: dimension(row.try_get(6)?),
            uploaded_by_device: row.try_get(7)?,
            uploaded_by_user: row.try_get(8)?,
            created_at: row.try_get(9)?,
            updated_at: row.try_get(10)?,
        }))
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
        let size = to_sql_size(size)?;
        self.client()
            .await?
            .execute(
                "INSERT INTO blobs (tenant_id, sha256, size, received, complete, uploaded_by_device, uploaded_by_user,
                                    created_at, updated_at)
                 VALUES ($1, $2, $3, 0, FALSE, $4, $5, $6, $6)
                 ON CONFLICT (tenant_id, sha256) DO UPDATE
                 SET size = excluded.size, received = 0, uploaded_by_device = excluded.uploaded_by_device,
                     uploaded_by_user = excluded.uploaded_by_user, created_at = excluded.created_at,
                     updated_at = excluded.updated_at
                 WHERE NOT blobs.complete",
                &[&tenant_id, &sha256, &size, &device_id, &user_id, &now_ms],
            )
            .await?;
        Ok(())
    }

    async fn advance_upload(&self, tenant_id: i64, sha256: &str, received: u64, now_ms: i64) -> Result<()> {
        let received = to_sql_size(received)?;
        self.client()
            .await?
            .execute(
                "UPDATE blobs SET received = $3, updated_at = $4 WHERE tenant_id = $1 AND sha256 = $2 AND NOT complete",
                &[&tenant_id, &sha256, &received, &now_ms],
            )
            .await?;
        Ok(())
    }

    async fn unfinished_upload_bytes(&self, tenant_id: i64, user_id: &str, except_sha256: &str) -> Result<u64> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT COALESCE(SUM(size), 0)::BIGINT FROM blobs
                 WHERE tenant_id = $1 AND uploaded_by_user = $2 AND NOT complete AND sha256 != $3",
            )
            .await?;
        let row = client.query_one(&statement, &[&tenant_id, &user_id, &except_sha256]).await?;
        Ok(to_u64(row.try_get(0)?))
    }

    async fn stale_uploads(&self, before_ms: i64, limit: u32) -> Result<Vec<BlobKey>> {
        let client = self.client().await?;
        // `COLLATE "C"`: byte order, as SQLite sorts text.
        let statement = client
            .prepare_cached(
                "SELECT tenant_id, sha256 FROM blobs WHERE NOT complete AND updated_at < $1
                 ORDER BY updated_at, tenant_id, sha256 COLLATE \"C\" LIMIT $2",
            )
            .await?;
        let rows = client.query(&statement, &[&before_ms, &i64::from(limit)]).await?;
        rows.iter().map(|row| Ok(BlobKey { tenant_id: row.try_get(0)?, sha256: row.try_get(1)? })).collect()
    }

    async fn expire_upload(&self, tenant_id: i64, sha256: &str, before_ms: i64) -> Result<bool> {
        let removed = self
            .client()
            .await?
            .execute(
                "DELETE FROM blobs WHERE tenant_id = $1 AND sha256 = $2 AND NOT complete AND updated_at < $3",
                &[&tenant_id, &sha256, &before_ms],
            )
            .await?;
        Ok(removed > 0)
    }

    async fn complete_blob(&self, tenant_id: i64, sha256: &str, blob: CompletedBlob) -> Result<()> {
        let size = to_sql_size(blob.size)?;
        let (width, height) = (i64::from(blob.width), i64::from(blob.height));
        self.client()
            .await?
            .execute(
                "INSERT INTO blobs (tenant_id, sha256, size, received, complete, width, height, uploaded_by_device,
                                    uploaded_by_user, created_at, updated_at)
                 VALUES ($1, $2, $3, $3, TRUE, $4, $5, $6, $7, $8, $8)
                 ON CONFLICT (tenant_id, sha256) DO UPDATE
                 SET size = excluded.size, received = excluded.size, complete = TRUE, width = excluded.width,
                     height = excluded.height, uploaded_by_device = excluded.uploaded_by_device,
                     uploaded_by_user = excluded.uploaded_by_user, updated_at = excluded.updated_at
                 WHERE NOT blobs.complete",
                &[&tenant_id, &sha256, &size, &width, &height, &blob.device_id, &blob.user_id, &blob.now_ms],
            )
            .await?;
        Ok(())
    }

    async fn discard_upload(&self, tenant_id: i64, sha256: &str) -> Result<()> {
        self.client()
            .await?
            .execute("DELETE FROM blobs WHERE tenant_id = $1 AND sha256 = $2 AND NOT complete", &[&tenant_id, &sha256])
            .await?;
        Ok(())
    }
}
