//! The `review-order` job's handler: reviews the order the job names
//! ([`crate::services::orders::review_order`]).

use super::job_document;
use crate::error::Result;
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
