//! The job queue's vocabulary, below the services that queue work and above storage that keeps
//! it ([`crate::storage::JobStore`]): which job a stored document calls for ([`job_for`]), the
//! key that keeps the same work from being queued twice ([`key_for`]), the `{"doc": id}`
//! payload, and the signal that wakes the runner ([`JobSignal`]). The runner itself, and one
//! handler per job kind, are an edge (`jobs/`); each handler calls the service that owns the
//! work, whose module defines the kind's name (`KIND`).

use std::sync::Arc;

use fieldsync_core::DocumentId;
use fieldsync_core::clock::now_ms;
use fieldsync_core::sync::protocol::Head;
use tokio::sync::watch;

use crate::error::Result;
use crate::services::{inspections, orders};
use crate::storage::{DocMeta, NewJob, Storage};

/// Wakes the job runner's lanes when work is queued. Every lane sees every wake-up (a counter
/// each lane watches), so none misses work queued while it was busy.
#[derive(Clone)]
pub struct JobSignal(Arc<watch::Sender<u64>>);

impl Default for JobSignal {
    fn default() -> Self {
        Self(Arc::new(watch::channel(0).0))
    }
}

impl JobSignal {
    /// Tells the runner new work is queued.
    pub fn wake(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A waiter for one lane: [`JobWaiter::notified`] resolves after each wake-up since the last.
    pub fn waiter(&self) -> JobWaiter {
        JobWaiter(self.0.subscribe())
    }
}

/// One lane's view of the [`JobSignal`].
pub struct JobWaiter(watch::Receiver<u64>);

impl JobWaiter {
    /// Resolves once the signal was woken since the last call (at once if it already was).
    pub async fn notified(&mut self) {
        if self.0.changed().await.is_err() {
            // The signal is gone with the relay's state: nothing will wake this lane again.
            std::future::pending::<()>().await;
        }
    }
}

/// The key of work on a document at given heads.
pub fn key_for(id: &DocumentId, heads: &[Head]) -> String {
    let mut heads: Vec<String> = heads.iter().map(hex::encode).collect();
    heads.sort();
    format!("{id}@{}", heads.join(","))
}

/// The payload of a job on one document: `{"doc": id}`.
pub fn doc_payload(id: &DocumentId) -> String {
    serde_json::json!({ "doc": id.to_string() }).to_string()
}

/// The job a device's write of a document calls for, if any, to be queued in the same
/// transaction as the write ([`crate::storage::DocWrite::job`]): a stored change never misses
/// its job, even when the relay dies right after the commit. Wake the runner
/// ([`JobSignal::wake`]) once the write is stored.
pub fn job_for(id: &DocumentId, meta: &DocMeta, heads: &[Head]) -> Option<NewJob> {
    let kind = job_kind(meta)?;
    Some(NewJob { kind: kind.to_owned(), key: key_for(id, heads), payload: doc_payload(id), run_after: now_ms() })
}

/// Queues the work a stored document calls for, outside any write (a device's write queues it
/// in its own transaction, see [`job_for`]): for re-queuing work by hand. Queuing twice is
/// harmless, the job is keyed by the document and its heads.
pub async fn enqueue_for(
    storage: &dyn Storage,
    jobs: &JobSignal,
    tenant_id: i64,
    id: &DocumentId,
    meta: &DocMeta,
    heads: &[Head],
) -> Result<()> {
    let Some(job) = job_for(id, meta, heads) else { return Ok(()) };
    if storage.enqueue_job(tenant_id, &job.kind, &job.key, &job.payload, job.run_after).await? {
        jobs.wake();
    }
    Ok(())
}

/// The job kind a document calls for, if any. A kind is added here, with its handler in the
/// runner (`jobs::run_job`).
fn job_kind(meta: &DocMeta) -> Option<&'static str> {
    if inspections::scoring::wants(meta) {
        return Some(inspections::scoring::KIND);
    }
    if orders::review::wants(meta) {
        return Some(orders::review::KIND);
    }
    if orders::apply::wants(meta) {
        return Some(orders::apply::KIND);
    }
    None
}
