//! [`PhotoReviewStore`] on PostgreSQL.

use async_trait::async_trait;

use super::PostgresStorage;
use super::events::insert_events;
use crate::error::Result;
use crate::storage::{NewEvent, PhotoReviewRecord, PhotoReviewStore};

#[async_trait]
impl PhotoReviewStore for PostgresStorage {
    async fn record_photo_review(&self, tenant_id: i64, review: &PhotoReviewRecord, events: &[NewEvent]) -> Result<()> {
        let r = review;
        let decision = if r.accepted { "accepted" } else { "rejected" };
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO photo_reviews (tenant_id, inspection_id, sha256, decision, reason, reviewer, decided_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (tenant_id, inspection_id, sha256) DO UPDATE
                 SET decision = $4, reason = $5, reviewer = $6, decided_at = $7",
            &[&tenant_id, &r.inspection_id, &r.sha256, &decision, &r.reason, &r.reviewer, &r.decided_at],
        )
        .await?;
        insert_events(&tx, tenant_id, events, r.decided_at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn photo_reviews(&self, tenant_id: i64, inspection_id: &str) -> Result<Vec<PhotoReviewRecord>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT inspection_id, sha256, decision, reason, reviewer, decided_at FROM photo_reviews
                 WHERE tenant_id = $1 AND inspection_id = $2 ORDER BY sha256",
                &[&tenant_id, &inspection_id],
            )
            .await?;
        let mut reviews = Vec::with_capacity(rows.len());
        for row in rows {
            reviews.push(PhotoReviewRecord {
                inspection_id: row.try_get(0)?,
                sha256: row.try_get(1)?,
                accepted: row.try_get::<_, String>(2)? == "accepted",
                reason: row.try_get(3)?,
                reviewer: row.try_get(4)?,
                decided_at: row.try_get(5)?,
            });
        }
        Ok(reviews)
    }
}
