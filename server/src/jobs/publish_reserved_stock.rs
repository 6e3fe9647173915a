//! The `publish-reserved-stock` job's handler: writes an inventory's reserved totals into its
//! document ([`crate::services::catalog::stock::publish_reserved`]), queued by the changes of its
//! reservations at most once a second.

use super::job_document;
use crate::error::Result;
use crate::services::catalog::stock;
use crate::state::AppState;
use crate::storage::Job;

/// Runs a `publish-reserved-stock` job (payload `{"doc": inventory id}`).
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let inventory_id = job_document(job)?;
    let written = stock::publish_reserved(state.storage.as_ref(), &state.caches, job.tenant_id, &inventory_id).await?;
    tracing::debug!(inventory = %inventory_id, written, "reserved stock published");
    Ok(())
}
