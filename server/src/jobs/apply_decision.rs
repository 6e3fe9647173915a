//! The `apply-decision` job's handler: applies the decision document the job names to its
//! order's review ([`crate::services::orders::apply`]), or logs why it was ignored.

use super::job_document;
use crate::error::Result;
use crate::services::orders::apply::apply_document;
use crate::state::AppState;
use crate::storage::Job;

/// Runs an `apply-decision` job: applies the decision document, or logs why not.
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let id = job_document(job)?;
    let (decision, outcome) =
        apply_document(state.storage.as_ref(), &state.caches, job.tenant_id, &id, state.clock.now()).await?;
    match outcome {
        Ok((applied, review)) => {
            tracing::info!(decision = %id, order = %decision.order_id, ?applied, outcome = review.outcome.as_str(), "decision applied");
        }
        Err(refused) => tracing::warn!(decision = %id, order = %decision.order_id, %refused, "decision ignored"),
    }
    Ok(())
}
