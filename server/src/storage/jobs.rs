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

/// Which kinds of job a runner lane takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKinds<'a> {
    /// Every kind.
    All,
    /// Only these kinds.
    Only(&'a [&'a str]),
    /// Every kind but these.
    AllBut(&'a [&'a str]),
}

impl JobKinds<'_> {
    /// Whether a job of `kind` belongs here.
    pub fn includes(&self, kind: &str) -> bool {
        match self {
            JobKinds::All => true,
            JobKinds::Only(kinds) => kinds.contains(&kind),
            JobKinds::AllBut(kinds) => !kinds.contains(&kind),
        }
    }
}

/// The job queue.
#[async_trait]
pub trait JobStore {
    /// Queues a job unless one with the same tenant, kind and key exists; returns whether it was
    /// queued.
    async fn enqueue_job(&self, tenant_id: i64, kind: &str, key: &str, payload: &str, run_after: i64) -> Result<bool>;

    /// [`JobStore::enqueue_job`] for several jobs, in one write; returns how many were queued.
    async fn enqueue_jobs(&self, tenant_id: i64, jobs: &[crate::storage::NewJob]) -> Result<usize> {
        let mut queued = 0;
        for job in jobs {
            if self.enqueue_job(tenant_id, &job.kind, &job.key, &job.payload, job.run_after).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Leases up to `limit` jobs that are due (queued, or running with an expired lease) to
    /// `worker` until `now + lease_ms`.
    async fn claim_jobs(&self, worker: &str, limit: u32, now: i64, lease_ms: i64) -> Result<Vec<Job>> {
        self.claim_jobs_of(worker, JobKinds::All, limit, now, lease_ms).await
    }

    /// [`JobStore::claim_jobs`] of the given kinds only: one lane of a runner.
    async fn claim_jobs_of(
        &self,
        worker: &str,
        kinds: JobKinds<'_>,
        limit: u32,
        now: i64,
        lease_ms: i64,
    ) -> Result<Vec<Job>>;

    /// Extends to `until` the leases `worker` holds on these jobs (those still running under
    /// its lease): a long job is not taken over by another runner while it runs.
    async fn renew_job_leases(&self, worker: &str, ids: &[i64], until: i64) -> Result<()>;

    /// Marks a job done.
    async fn complete_job(&self, id: i64, now: i64) -> Result<()> {
        self.complete_jobs(&[id], now).await
    }

    /// Marks jobs done, in one write (a batch of reviews).
    async fn complete_jobs(&self, ids: &[i64], now: i64) -> Result<()>;

    /// Records a failure: queued again at `retry_at`, or failed for good when `None`.
    async fn fail_job(&self, id: i64, error: &str, retry_at: Option<i64>, now: i64) -> Result<()>;

    /// Jobs by state.
    async fn job_counts(&self) -> Result<JobCounts>;

    /// Jobs running, or queued to run before `until`: what "the relay is busy" means now that
    /// some jobs (approval deadlines) are queued hours ahead.
    async fn jobs_before(&self, until: i64) -> Result<u64>;
}
