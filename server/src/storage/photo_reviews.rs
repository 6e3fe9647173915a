//! People's decisions on photos the scorer put at review, per inspection and photo: the scoring
//! of an inspection reads them every time it runs (`services::inspections::review`).

use async_trait::async_trait;

use crate::error::Result;
use crate::storage::NewEvent;

/// One decision on one photo of one inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoReviewRecord {
    /// The inspection's document id.
    pub inspection_id: String,
    /// The photo's SHA-256.
    pub sha256: String,
    /// Accepted (`true`) or rejected.
    pub accepted: bool,
    /// Why.
    pub reason: String,
    /// Who decided (user id).
    pub reviewer: String,
    /// When, ms since the Unix epoch.
    pub decided_at: i64,
}

/// The photo reviews.
#[async_trait]
pub trait PhotoReviewStore {
    /// Records `review`, replacing an earlier decision on the same photo of the same inspection,
    /// and stores the `events` it makes in the outbox, in one transaction.
    async fn record_photo_review(&self, tenant_id: i64, review: &PhotoReviewRecord, events: &[NewEvent]) -> Result<()>;

    /// Every decision on the photos of an inspection, by SHA-256.
    async fn photo_reviews(&self, tenant_id: i64, inspection_id: &str) -> Result<Vec<PhotoReviewRecord>>;
}
