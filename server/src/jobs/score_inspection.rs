//! The `score-inspection` job's handler: scores the inspection the job names
//! ([`crate::services::inspections::scoring::score`]).

use fieldsync_core::DocumentId;

use crate::error::{Error, Result};
use crate::services::inspections::scoring;
use crate::state::AppState;
use crate::storage::Job;

/// Runs one `score-inspection` job (payload `{"doc": inspection id}`).
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload)
        .map_err(|e| Error::bad_request("invalid-job", format!("job {} payload is not JSON: {e}", job.id)))?;
    let id: DocumentId = payload["doc"]
        .as_str()
        .ok_or_else(|| Error::bad_request("invalid-job", format!("job {} payload names no doc", job.id)))?
        .parse()?;
    scoring::score(state.storage.as_ref(), &state.blobs, job.tenant_id, &id).await
}
