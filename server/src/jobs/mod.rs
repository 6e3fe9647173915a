//! Work the relay does after storing a document, run from the persisted queue
//! ([`crate::storage::JobStore`]): a restart loses no job, a job leased by a relay that died runs
//! again when its lease expires, and a job is keyed by the document and the heads it works on, so
//! the same work is never queued twice.
//!
//! An edge: [`run_queue`] runs the queue, [`run_job`] dispatches a job to its handler by kind,
//! and each handler reads the job's payload, calls the service that owns the work and logs what
//! it did. What a stored document calls for, the job keys and payloads, and the signal that wakes
//! the runner are the queue's vocabulary, below the services ([`crate::services::queue`]).

pub mod apply_decision;
pub mod approval_deadline;
pub mod deliver_webhook;
pub mod evaluate_alerts;
pub mod review_order;
pub mod score_inspection;

use std::time::Duration;

use fieldsync_core::DocumentId;

use crate::error::{Error, Result};
use crate::services::{alerts, inspections, orders};
use crate::state::AppState;
use crate::storage::Job;

/// How long a worker holds a job before another may take it over.
const LEASE_MS: i64 = 60_000;
/// Jobs claimed per poll.
const BATCH: u32 = 8;
/// Attempts before a job is given up (its last error stays in the queue for an operator).
const MAX_ATTEMPTS: u32 = 5;
/// How often the queue is polled when nobody wakes the runner.
const POLL: Duration = Duration::from_secs(1);

/// The document a job works on (payload `{"doc": id}`).
pub fn job_document(job: &Job) -> Result<DocumentId> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload)
        .map_err(|e| Error::bad_request("invalid-job", format!("job {} has an unreadable payload: {e}", job.id)))?;
    let text = payload["doc"].as_str().unwrap_or_default();
    Ok(text.parse()?)
}

/// Runs one job.
pub async fn run_job(state: &AppState, job: &Job) -> Result<()> {
    match job.kind.as_str() {
        inspections::scoring::KIND => score_inspection::run(state, job).await,
        orders::review::KIND => review_order::run(state, job).await,
        orders::apply::KIND => apply_decision::run(state, job).await,
        orders::deadline::KIND => approval_deadline::run(state, job).await,
        alerts::KIND => evaluate_alerts::run(state, job).await,
        alerts::webhook::KIND => deliver_webhook::run(state, job).await,
        crate::quarantine::KIND => crate::quarantine::run(state, job).await,
        crate::read_model::KIND => crate::read_model::run(state, job).await,
        _ => Err(Error::bad_request("unknown-job", format!("no handler for job kind {}", job.kind))),
    }
}

/// Runs the queue until the relay shuts down (spawn it on the relay's runtime). Jobs are due by
/// the relay's clock ([`crate::clock::Clock`]), so a clock moved forward runs the deadlines it
/// passed.
pub async fn run_queue(state: AppState) {
    let worker = format!("relay-{}", crate::storage::random_id());
    loop {
        let claimed = state.storage.claim_jobs(&worker, BATCH, state.clock.now(), LEASE_MS).await;
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
                Ok(()) => state.storage.complete_job(job.id, state.clock.now()).await,
                Err(error) => {
                    let attempts = job.attempts + 1;
                    let retry =
                        (attempts < MAX_ATTEMPTS).then(|| state.clock.now() + 1_000 * i64::from(attempts * attempts));
                    tracing::warn!(job = job.id, kind = %job.kind, attempts, %error, "job failed");
                    state.storage.fail_job(job.id, &error.to_string(), retry, state.clock.now()).await
                }
            };
            if let Err(error) = recorded {
                tracing::error!(job = job.id, %error, "cannot record the job's outcome");
            }
        }
        if idle {
            tokio::select! {
                () = state.shutdown.wait() => return,
                () = state.jobs.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}
