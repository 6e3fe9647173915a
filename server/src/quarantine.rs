//! Documents that break the limits on what a document may become
//! ([`fieldsync_core::doc::limits`]) are taken out of service: moved whole into the quarantine
//! table with the reason ([`crate::storage::DocStore::quarantine_doc`]), so no reader ever loads
//! them again and an operator can still look at them.
//!
//! Admission refuses such changes before anything is stored; this module is for documents stored
//! before the limits existed. A migration queues one `check-documents` job per tenant that has
//! documents ([`run`]); `fieldsync-server admin check-documents` runs the same check by hand
//! ([`check_tenant`]).

use automerge::Automerge;
use fieldsync_core::DocumentId;
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::limits::{self, Limits};

use crate::error::Result;
use crate::state::AppState;
use crate::storage::{Job, Storage, StoredDoc};

/// The job kind of a tenant's check.
pub const KIND: &str = "check-documents";
/// Documents read per page.
const PAGE: u32 = 500;

/// What one check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Documents checked.
    pub checked: u64,
    /// Documents quarantined, with the reason.
    pub quarantined: Vec<(DocumentId, String)>,
}

/// Why a stored document breaks the limits of its kind, if it does. Cheap first: the operation
/// count is read from the encoding before the document is loaded.
pub fn violation(stored: &StoredDoc) -> Option<String> {
    let limits = Limits::for_kind(stored.meta.kind);
    if limits.max_ops_per_doc != u64::MAX
        && let Err(error) = limits::measure(&stored.snapshot, limits.max_ops_per_doc)
    {
        return Some(error.to_string());
    }
    match Automerge::load(&stored.snapshot) {
        Ok(doc) => limits::check_shape(&doc, &limits).err().map(|error| error.to_string()),
        Err(error) => Some(format!("the document does not load: {error}")),
    }
}

/// Checks every document of a tenant and quarantines those that break the limits.
pub async fn check_tenant(storage: &dyn Storage, tenant_id: i64) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let mut after: Option<DocumentId> = None;
    loop {
        let ids = storage.doc_ids_after(tenant_id, after.as_ref(), PAGE).await?;
        let Some(last) = ids.last().cloned() else { return Ok(report) };
        for id in ids {
            let Some(stored) = storage.load_doc(tenant_id, &id).await? else { continue };
            report.checked += 1;
            if let Some(reason) = violation(&stored) {
                tracing::warn!(tenant_id, doc = %id, kind = %stored.meta.kind, %reason, "document quarantined");
                if storage.quarantine_doc(tenant_id, &id, &reason, now_ms()).await? {
                    report.quarantined.push((id, reason));
                }
            }
        }
        after = Some(last);
    }
}

/// Runs a `check-documents` job: the whole tenant.
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let report = check_tenant(state.storage.as_ref(), job.tenant_id).await?;
    tracing::info!(
        tenant_id = job.tenant_id,
        checked = report.checked,
        quarantined = report.quarantined.len(),
        "stored documents checked against the limits"
    );
    Ok(())
}
