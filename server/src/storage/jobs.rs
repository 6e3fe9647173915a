//! The persisted job queue: work the relay does after storing a document (review a submitted
//! order, score a checked-out inspection, evaluate alerts). A restart loses nothing: a job leased
//! by a relay that died is leased again when its lease runs out.

use async_trait::async_trait;

use crate::error::Result;

/// A job waiting to run or running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Queue id.
    pub id: i64,
    /// The tenant it belongs to.
    pub tenant_id: i64,
    /// What to do (`review-order`, `score-inspection`, …).
    pub kind: String,
    /// What it works on; unique per tenant and kind (a document id and its heads).
    pub key: String,
    /// Job-specific input, JSON.
    pub payload: String,
    /// Runs before this one.
    pub attempts: u32,
}

/// Counts of jobs by state, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    /// Waiting to run.
    pub queued: u64,
    /// Leased by a worker.
    pub running: u64,
    /// Finished.
    pub done: u64,
    /// Given up after too many attempts.
    pub failed: u64,
}

/// The job queue.
#[async_trait]
pub trait JobStore {
    /// Queues a job unless one with the same tenant, kind and key exists; returns whether it was
    /// queued.
    async fn enqueue_job(&self, tenant_id: i64, kind: &str, key: &str, payload: &str, run_after: i64) -> Result<bool>;

    /// Leases up to `limit` jobs that are due (queued, or running with an expired lease) to
    /// `worker` until `now + lease_ms`.
    async fn claim_jobs(&self, worker: &str, limit: u32, now: i64, lease_ms: i64) -> Result<Vec<Job>>;

    /// Marks a job done.
    async fn complete_job(&self, id: i64, now: i64) -> Result<()>;

    /// Records a failure: queued again at `retry_at`, or failed for good when `None`.
    async fn fail_job(&self, id: i64, error: &str, retry_at: Option<i64>, now: i64) -> Result<()>;

    /// Jobs by state.
    async fn job_counts(&self) -> Result<JobCounts>;

    /// Jobs running, or queued to run before `until`: what "the relay is busy" means now that
    /// some jobs (approval deadlines) are queued hours ahead.
    async fn jobs_before(&self, until: i64) -> Result<u64>;
}
