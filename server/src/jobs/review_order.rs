//! The `review-order` job's handler: reviews the order the job names
//! ([`crate::services::orders::review_order`]), or a batch of them at once
//! ([`crate::services::orders::review::review_orders`]).

use fieldsync_core::DocumentId;

use super::job_document;
use crate::error::{Error, Result};
use crate::services::orders;
use crate::state::AppState;
use crate::storage::Job;

/// Runs a `review-order` job.
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let order_id = job_document(job)?;
    let done = orders::review_order(state.storage.as_ref(), &state.caches, job.tenant_id, &order_id, state.clock.now())
        .await?;
    tracing::info!(order = %order_id, ?done, "order reviewed");
    Ok(())
}

/// Runs a batch of one tenant's `review-order` jobs; answers each job's outcome, in order.
pub async fn run_batch(state: &AppState, tenant_id: i64, jobs: &[&Job]) -> Vec<Result<()>> {
    let documents: Vec<Result<DocumentId>> = jobs.iter().map(|job| job_document(job)).collect();
    let order_ids: Vec<DocumentId> = documents.iter().filter_map(|id| id.as_ref().ok().cloned()).collect();
    let storage = state.storage.as_ref();
    let reviewed: Vec<Result<()>> =
        match orders::review::review_orders(storage, &state.caches, tenant_id, &order_ids, state.clock.now()).await {
            Ok(done) => done.into_iter().map(|done| done.map(drop)).collect(),
            // What the batch shares failed: each job fails with it and is retried.
            Err(error) => {
                let reason = error.to_string();
                order_ids.iter().map(|_| Err(Error::Conflict(format!("batch review failed: {reason}")))).collect()
            }
        };
    tracing::info!(orders = jobs.len(), "orders reviewed in a batch");
    // One outcome per readable job, in order; an unreadable job fails with its own error.
    let mut reviewed = reviewed.into_iter();
    documents
        .into_iter()
        .map(|id| {
            id.and_then(|_| {
                reviewed.next().unwrap_or_else(|| {
                    Err(Error::Conflict("batch review answered fewer orders than it was given".into()))
                })
            })
        })
        .collect()
}
