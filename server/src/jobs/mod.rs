//! Work the relay does after storing a document, run from the persisted queue
//! ([`crate::storage::JobStore`]): a restart loses no job, a job leased by a relay that died runs
//! again when its lease expires, and a job is keyed by the document and the heads it works on, so
//! the same work is never queued twice.
//!
//! [`job_for`] decides what a stored document calls for (queued in the write's own transaction);
//! [`run_queue`] runs the queue; [`run_job`] dispatches a job to its handler by kind.

pub mod apply_decision;
pub mod review_order;
pub mod score_inspection;

use std::sync::Arc;
use std::time::Duration;

use fieldsync_core::DocumentId;
use fieldsync_core::clock::now_ms;
use fieldsync_core::sync::protocol::Head;
use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::storage::{DocMeta, Job, NewJob};

/// How long a worker holds a job before another may take it over.
const LEASE_MS: i64 = 60_000;
/// Jobs claimed per poll.
const BATCH: u32 = 8;
/// Attempts before a job is given up (its last error stays in the queue for an operator).
const MAX_ATTEMPTS: u32 = 5;
/// How often the queue is polled when nobody wakes the runner.
const POLL: Duration = Duration::from_secs(1);

/// Wakes the job runner when work is queued.
#[derive(Clone, Default)]
pub struct JobSignal(Arc<Notify>);

impl JobSignal {
    /// Tells the runner new work is queued.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// The key of work on a document at given heads.
pub fn key_for(id: &DocumentId, heads: &[Head]) -> String {
    let mut heads: Vec<String> = heads.iter().map(hex::encode).collect();
    heads.sort();
    format!("{id}@{}", heads.join(","))
}

/// The job a device's write of a document calls for, if any, to be queued in the same
/// transaction as the write ([`crate::storage::DocWrite::job`]): a stored change never misses
/// its job, even when the relay dies right after the commit. Wake the runner
/// ([`JobSignal::wake`]) once the write is stored.
pub fn job_for(id: &DocumentId, meta: &DocMeta, heads: &[Head]) -> Option<NewJob> {
    let kind = job_kind(meta)?;
    Some(NewJob {
        kind: kind.to_owned(),
        key: key_for(id, heads),
        payload: serde_json::json!({ "doc": id.to_string() }).to_string(),
        run_after: now_ms(),
    })
}

/// Queues the work a stored document calls for, outside any write (a device's write queues it
/// in its own transaction, see [`job_for`]): for re-queuing work by hand. Queuing twice is
/// harmless, the job is keyed by the document and its heads.
pub async fn on_document_stored(
    state: &AppState,
    tenant_id: i64,
    id: &DocumentId,
    meta: &DocMeta,
    heads: &[Head],
) -> Result<()> {
    let Some(job) = job_for(id, meta, heads) else { return Ok(()) };
    if state.storage.enqueue_job(tenant_id, &job.kind, &job.key, &job.payload, job.run_after).await? {
        state.jobs.wake();
    }
    Ok(())
}

/// The job kind a document calls for, if any. Kinds are added here with their handler in
/// [`run_job`].
fn job_kind(meta: &DocMeta) -> Option<&'static str> {
    if score_inspection::wants(meta) {
        return Some(score_inspection::KIND);
    }
    if review_order::wants(meta) {
        return Some(review_order::KIND);
    }
    if apply_decision::wants(meta) {
        return Some(apply_decision::KIND);
    }
    None
}

/// Runs one job.
pub async fn run_job(state: &AppState, job: &Job) -> Result<()> {
    match job.kind.as_str() {
        score_inspection::KIND => score_inspection::run(state, job).await,
        review_order::KIND => review_order::run(state, job).await,
        apply_decision::KIND => apply_decision::run(state, job).await,
        crate::alerts::KIND => crate::alerts::run(state, job).await,
        crate::alerts::webhook::KIND => crate::alerts::webhook::run(state, job).await,
        crate::quarantine::KIND => crate::quarantine::run(state, job).await,
        crate::read_model::KIND => crate::read_model::run(state, job).await,
        _ => Err(Error::bad_request("unknown-job", format!("no handler for job kind {}", job.kind))),
    }
}

/// Runs the queue until the relay shuts down (spawn it on the relay's runtime).
pub async fn run_queue(state: AppState) {
    let worker = format!("relay-{}", crate::storage::random_id());
    loop {
        let claimed = state.storage.claim_jobs(&worker, BATCH, now_ms(), LEASE_MS).await;
        let jobs = match claimed {
            Ok(jobs) => jobs,
            Err(error) => {
                tracing::error!(%error, "cannot read the job queue");
                Vec::new()
            }
        };
        let idle = jobs.is_empty();
        for job in jobs {
            let started = std::time::Instant::now();
            let outcome = run_job(&state, &job).await;
            state.metrics.job_run(&job.kind, outcome.is_ok(), started.elapsed());
            let recorded = match outcome {
                Ok(()) => state.storage.complete_job(job.id, now_ms()).await,
                Err(error) => {
                    let attempts = job.attempts + 1;
                    let retry = (attempts < MAX_ATTEMPTS).then(|| now_ms() + 1_000 * i64::from(attempts * attempts));
                    tracing::warn!(job = job.id, kind = %job.kind, attempts, %error, "job failed");
                    state.storage.fail_job(job.id, &error.to_string(), retry, now_ms()).await
                }
            };
            if let Err(error) = recorded {
                tracing::error!(job = job.id, %error, "cannot record the job's outcome");
            }
        }
        if idle {
            tokio::select! {
                () = state.shutdown.wait() => return,
                () = state.jobs.0.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}
