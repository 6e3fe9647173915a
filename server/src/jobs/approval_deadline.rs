//! The `approval-deadline` job's handler: reminds the approver of a waiting step, or escalates
//! it at its deadline ([`crate::services::orders::deadline`]), at the relay's clock.

use crate::error::Result;
use crate::services::orders::deadline;
use crate::state::AppState;
use crate::storage::Job;

/// Runs an `approval-deadline` job.
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let done =
        deadline::run(state.storage.as_ref(), &state.caches, job.tenant_id, &job.payload, state.clock.now()).await?;
    tracing::info!(job = %job.key, ?done, "approval deadline");
    Ok(())
}
