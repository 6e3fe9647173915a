//! [`PhotoReviewStore`] on SQLite.

use async_trait::async_trait;
use rusqlite::params;

use super::SqliteStorage;
use super::events::insert_events;
use crate::error::Result;
use crate::storage::{NewEvent, PhotoReviewRecord, PhotoReviewStore};

#[async_trait]
impl PhotoReviewStore for SqliteStorage {
    async fn record_photo_review(&self, tenant_id: i64, review: &PhotoReviewRecord, events: &[NewEvent]) -> Result<()> {
        let r = review.clone();
        let events = events.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.prepare_cached(
                "INSERT INTO photo_reviews (tenant_id, inspection_id, sha256, decision, reason, reviewer, decided_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (tenant_id, inspection_id, sha256) DO UPDATE
                 SET decision = ?4, reason = ?5, reviewer = ?6, decided_at = ?7",
            )?
            .execute(params![
                tenant_id,
                r.inspection_id,
                r.sha256,
                if r.accepted { "accepted" } else { "rejected" },
                r.reason,
                r.reviewer,
                r.decided_at
            ])?;
            insert_events(&tx, tenant_id, &events, r.decided_at)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn photo_reviews(&self, tenant_id: i64, inspection_id: &str) -> Result<Vec<PhotoReviewRecord>> {
        let inspection_id = inspection_id.to_owned();
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT inspection_id, sha256, decision, reason, reviewer, decided_at FROM photo_reviews
                 WHERE tenant_id = ?1 AND inspection_id = ?2 ORDER BY sha256",
            )?;
            let rows = statement.query_map(params![tenant_id, inspection_id], |r| {
                Ok(PhotoReviewRecord {
                    inspection_id: r.get(0)?,
                    sha256: r.get(1)?,
                    accepted: r.get::<_, String>(2)? == "accepted",
                    reason: r.get(3)?,
                    reviewer: r.get(4)?,
                    decided_at: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }
}
