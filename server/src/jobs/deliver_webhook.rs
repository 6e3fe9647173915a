//! The `deliver-webhook` job's handler: one delivery of the alert event the job carries
//! ([`crate::services::alerts::webhook::deliver`]), within the configured timeout.

use crate::error::Result;
use crate::services::alerts::webhook;
use crate::state::AppState;
use crate::storage::Job;

/// Runs a `deliver-webhook` job: one signed POST of the event; an error makes the queue retry.
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    webhook::deliver(state.storage.as_ref(), job.tenant_id, job.id, &job.payload, state.config.webhook_timeout).await
}
