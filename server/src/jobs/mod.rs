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
pub mod deliver_events;
pub mod deliver_webhook;
pub mod evaluate_alerts;
pub mod publish_events;
pub mod publish_reserved_stock;
pub mod review_order;
pub mod score_inspection;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fieldsync_core::DocumentId;
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::services::{alerts, inspections, orders};
use crate::state::AppState;
use crate::storage::{Job, JobKinds};

/// Attempts before a job is given up (its last error stays in the queue for an operator).
const MAX_ATTEMPTS: u32 = 5;
/// How often a lane polls the queue when nobody wakes it (jobs due later, other nodes' work).
const POLL: Duration = Duration::from_secs(1);

/// Kinds that talk to the outside world: they wait on other people's servers, so they run in
/// their own lane and never hold up a verdict.
const DELIVERIES: &[&str] = &[alerts::webhook::KIND];
/// Reviews run in a lane of their own, taken in batches.
const REVIEWS: &[&str] = &[orders::review::KIND];
/// Everything but deliveries and reviews.
const NOT_WORK: &[&str] = &[alerts::webhook::KIND, orders::review::KIND];
/// Most reviews one task takes at once: enough that a morning's burst is reviewed with a few
/// inventory writes per region, few enough that one batch stays well inside a lease.
const REVIEW_BATCH: usize = 64;

/// One lane of the runner: the kinds it takes, how many of them run at once, and how long one
/// may run before it counts as failed (and is retried).
#[derive(Debug, Clone)]
pub struct Lane {
    /// For logs and metrics.
    pub name: &'static str,
    /// The kinds it takes.
    pub kinds: JobKinds<'static>,
    /// Tasks running at the same time.
    pub concurrency: usize,
    /// Most jobs one task takes at once ([`run_batch`]); 1 runs jobs one by one.
    pub batch: usize,
    /// Longest run of one job.
    pub timeout: Duration,
}

/// The runner's lanes: reviews, in batches, and the rest of the work behind verdicts
/// (decisions, scoring, alerts, read-model rebuilds), each on all cores, and deliveries apart,
/// each with its own concurrency and timeout.
pub fn lanes(config: &crate::config::Config) -> Vec<Lane> {
    vec![
        Lane {
            name: "reviews",
            kinds: JobKinds::Only(REVIEWS),
            concurrency: config.work_jobs.max(1),
            batch: REVIEW_BATCH,
            timeout: Duration::from_secs(300),
        },
        Lane {
            name: "work",
            kinds: JobKinds::AllBut(NOT_WORK),
            concurrency: config.work_jobs.max(1),
            batch: 1,
            timeout: Duration::from_secs(300),
        },
        Lane {
            name: "deliveries",
            kinds: JobKinds::Only(DELIVERIES),
            concurrency: config.delivery_jobs.max(1),
            batch: 1,
            // The delivery's own timeout is the config's; this is the runner's backstop.
            timeout: config.webhook_timeout + Duration::from_secs(5),
        },
    ]
}

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
        crate::services::catalog::stock::PUBLISH_KIND => publish_reserved_stock::run(state, job).await,
        crate::quarantine::KIND => crate::quarantine::run(state, job).await,
        crate::read_model::KIND => crate::read_model::run(state, job).await,
        _ => Err(Error::bad_request("unknown-job", format!("no handler for job kind {}", job.kind))),
    }
}

/// Runs the queue until the relay shuts down (spawn it on the relay's runtime): one task per
/// [`Lane`], all under one worker name.
/// Jobs are due, leased and recorded by the relay's clock ([`crate::clock::Clock`]), so a
/// clock moved forward runs the deadlines it passed.
pub async fn run_queue(state: AppState) {
    let worker = format!("relay-{}", crate::storage::random_id());
    let lanes = lanes(&state.config);
    let runs = lanes.into_iter().map(|lane| run_lane(state.clone(), worker.clone(), lane));
    futures_util::future::join_all(runs).await;
}

/// One lane: keeps up to `lane.concurrency` of its jobs running, claims more as they finish or
/// as work is queued, and renews the leases of the running ones every third of a lease, so a
/// job that runs long is never taken over by another runner while it still runs.
async fn run_lane(state: AppState, worker: String, lane: Lane) {
    let lease = state.config.job_lease.max(Duration::from_millis(300));
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    let running: Arc<Mutex<HashSet<i64>>> = Arc::default();
    let mut tasks = JoinSet::new();
    let mut waiter = state.jobs.waiter();
    let mut renewal = tokio::time::interval(lease / 3);
    renewal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let free = lane.concurrency.saturating_sub(tasks.len());
        let mut claimed_all = false;
        if free > 0 {
            let wanted = free.saturating_mul(lane.batch.max(1));
            let limit = u32::try_from(wanted).unwrap_or(u32::MAX);
            let jobs = match state.storage.claim_jobs_of(&worker, lane.kinds, limit, state.clock.now(), lease_ms).await
            {
                Ok(jobs) => jobs,
                Err(error) => {
                    tracing::error!(%error, lane = lane.name, "cannot read the job queue");
                    Vec::new()
                }
            };
            // A full claim: more may be due, claim again as soon as a slot frees.
            claimed_all = jobs.len() < wanted;
            // Spread what was claimed over the free slots, so a batch never leaves a core idle.
            let per_task = jobs.len().div_ceil(free).max(1);
            let mut jobs = jobs.into_iter().peekable();
            while jobs.peek().is_some() {
                let batch: Vec<Job> = jobs.by_ref().take(per_task).collect();
                lock(&running).extend(batch.iter().map(|job| job.id));
                let (state, running, timeout) = (state.clone(), running.clone(), lane.timeout);
                tasks.spawn(async move {
                    run_batch(&state, &batch, timeout).await;
                    let mut running = lock(&running);
                    for job in &batch {
                        running.remove(&job.id);
                    }
                });
            }
        }
        tokio::select! {
            () = state.shutdown.wait() => {
                // Running jobs stop with the runtime; their leases run out and another runner
                // (or this relay, restarted) takes them again.
                return;
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = renewal.tick() => {
                let ids: Vec<i64> = lock(&running).iter().copied().collect();
                let until = state.clock.now().saturating_add(lease_ms);
                if let Err(error) = state.storage.renew_job_leases(&worker, &ids, until).await {
                    tracing::warn!(%error, lane = lane.name, "cannot renew job leases");
                }
            }
            () = waiter.notified(), if claimed_all && tasks.len() < lane.concurrency => {}
            () = tokio::time::sleep(POLL), if claimed_all => {}
        }
    }
}

/// Runs a task's jobs within `timeout` and records each one's outcome. Reviews of one tenant run
/// as one batch ([`review_order::run_batch`]); any other job runs alone.
async fn run_batch(state: &AppState, jobs: &[Job], timeout: Duration) {
    let started = std::time::Instant::now();
    let work = async {
        let (reviews, others): (Vec<&Job>, Vec<&Job>) =
            jobs.iter().partition(|job| job.kind == orders::review::KIND && jobs.len() > 1);
        let mut outcomes: Vec<(&Job, Result<()>)> = Vec::with_capacity(jobs.len());
        let mut tenants: Vec<i64> = reviews.iter().map(|job| job.tenant_id).collect();
        tenants.sort_unstable();
        tenants.dedup();
        for tenant_id in tenants {
            let batch: Vec<&Job> = reviews.iter().copied().filter(|job| job.tenant_id == tenant_id).collect();
            outcomes.extend(batch.iter().copied().zip(review_order::run_batch(state, tenant_id, &batch).await));
        }
        for job in others {
            outcomes.push((job, run_job(state, job).await));
        }
        outcomes
    };
    let outcomes = match tokio::time::timeout(timeout, work).await {
        Ok(outcomes) => outcomes,
        Err(_) => jobs
            .iter()
            .map(|job| (job, Err(Error::JobTimedOut { id: job.id, kind: job.kind.clone(), limit: timeout })))
            .collect(),
    };
    // A batch's time is shared by its jobs.
    let each = started.elapsed() / u32::try_from(jobs.len().max(1)).unwrap_or(u32::MAX);
    let mut done = Vec::new();
    for (job, outcome) in outcomes {
        state.metrics.job_run(&job.kind, outcome.is_ok(), each);
        match outcome {
            Ok(()) => done.push(job.id),
            Err(error) => record_failure(state, job, error).await,
        }
    }
    // The jobs that succeeded are marked done together, in one write.
    if let Err(error) = state.storage.complete_jobs(&done, state.clock.now()).await {
        tracing::error!(jobs = ?done, %error, "cannot record the jobs' outcome");
    }
}

/// Records a job's failure: retried later with a growing delay, or given up after
/// [`MAX_ATTEMPTS`].
async fn record_failure(state: &AppState, job: &Job, error: Error) {
    let attempts = job.attempts + 1;
    let retry = (attempts < MAX_ATTEMPTS).then(|| state.clock.now() + 1_000 * i64::from(attempts * attempts));
    tracing::warn!(job = job.id, kind = %job.kind, attempts, %error, "job failed");
    if let Err(error) = state.storage.fail_job(job.id, &error.to_string(), retry, state.clock.now()).await {
        tracing::error!(job = job.id, %error, "cannot record the job's outcome");
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
