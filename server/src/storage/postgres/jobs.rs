//! [`JobStore`] on PostgreSQL: nodes claim due jobs with `FOR UPDATE SKIP LOCKED`, so two nodes
//! polling at once never lease the same job.

use async_trait::async_trait;

use super::PostgresStorage;
use crate::error::Result;
use crate::storage::{Job, JobCounts, JobKinds, JobStore};

#[async_trait]
impl JobStore for PostgresStorage {
    async fn enqueue_job(&self, tenant_id: i64, kind: &str, key: &str, payload: &str, run_after: i64) -> Result<bool> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "INSERT INTO jobs (tenant_id, kind, key, payload, run_after, created_at)
                 VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (tenant_id, kind, key) DO NOTHING",
            )
            .await?;
        let inserted = client.execute(&statement, &[&tenant_id, &kind, &key, &payload, &run_after]).await?;
        Ok(inserted == 1)
    }

    async fn claim_jobs_of(
        &self,
        worker: &str,
        kinds: JobKinds<'_>,
        limit: u32,
        now: i64,
        lease_ms: i64,
    ) -> Result<Vec<Job>> {
        // `kind = ANY($5)` taken as it is (`$6` true), negated, or not at all (`$6` null).
        let (names, wanted): (Vec<&str>, Option<bool>) = match kinds {
            JobKinds::All => (Vec::new(), None),
            JobKinds::Only(names) => (names.to_vec(), Some(true)),
            JobKinds::AllBut(names) => (names.to_vec(), Some(false)),
        };
        let client = self.client().await?;
        // One statement: the rows are locked, skipped by concurrent claimers, and leased at once.
        let statement = client
            .prepare_cached(
                "WITH due AS (
                     SELECT id FROM jobs
                     WHERE ((state = 'queued' AND run_after <= $1) OR (state = 'running' AND leased_until <= $1))
                       AND ($6::BOOLEAN IS NULL OR (kind = ANY($5::TEXT[])) = $6)
                     ORDER BY run_after, id LIMIT $2
                     FOR UPDATE SKIP LOCKED
                 )
                 UPDATE jobs j SET state = 'running', leased_by = $3, leased_until = $4, attempts = j.attempts + 1
                 FROM due WHERE j.id = due.id
                 RETURNING j.id, j.tenant_id, j.kind, j.key, j.payload, j.attempts - 1, j.run_after",
            )
            .await?;
        let rows =
            client.query(&statement, &[&now, &i64::from(limit), &worker, &(now + lease_ms), &names, &wanted]).await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let run_after: i64 = row.try_get(6)?;
            let job = Job {
                id: row.try_get(0)?,
                tenant_id: row.try_get(1)?,
                kind: row.try_get(2)?,
                key: row.try_get(3)?,
                payload: row.try_get(4)?,
                attempts: u32::try_from(row.try_get::<_, i64>(5)?.max(0)).unwrap_or(u32::MAX),
            };
            jobs.push((run_after, job));
        }
        // RETURNING keeps no order: run them in the order SQLite's queue would.
        jobs.sort_by_key(|(run_after, job)| (*run_after, job.id));
        Ok(jobs.into_iter().map(|(_, job)| job).collect())
    }

    async fn renew_job_leases(&self, worker: &str, ids: &[i64], until: i64) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "UPDATE jobs SET leased_until = $3 WHERE id = ANY($1) AND leased_by = $2 AND state = 'running'",
            )
            .await?;
        client.execute(&statement, &[&ids, &worker, &until]).await?;
        Ok(())
    }

    async fn complete_jobs(&self, ids: &[i64], now: i64) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "UPDATE jobs SET state = 'done', finished_at = $2, leased_by = NULL, leased_until = NULL
                 WHERE id = ANY($1)",
            )
            .await?;
        client.execute(&statement, &[&ids, &now]).await?;
        Ok(())
    }

    async fn fail_job(&self, id: i64, error: &str, retry_at: Option<i64>, now: i64) -> Result<()> {
        let client = self.client().await?;
        match retry_at {
            Some(at) => {
                client
                    .execute(
                        "UPDATE jobs SET state = 'queued', run_after = $2, last_error = $3, leased_by = NULL,
                         leased_until = NULL WHERE id = $1",
                        &[&id, &at, &error],
                    )
                    .await?
            }
            None => {
                client
                    .execute(
                        "UPDATE jobs SET state = 'failed', finished_at = $2, last_error = $3, leased_by = NULL,
                         leased_until = NULL WHERE id = $1",
                        &[&id, &now, &error],
                    )
                    .await?
            }
        };
        Ok(())
    }

    async fn jobs_before(&self, until: i64) -> Result<u64> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT COUNT(*) FROM jobs WHERE state = 'running' OR (state = 'queued' AND run_after < $1)",
                &[&until],
            )
            .await?;
        Ok(u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0))
    }

    async fn job_counts(&self) -> Result<JobCounts> {
        let rows = self.client().await?.query("SELECT state, COUNT(*) FROM jobs GROUP BY state", &[]).await?;
        let mut counts = JobCounts::default();
        for row in rows {
            let state: String = row.try_get(0)?;
            let n = u64::try_from(row.try_get::<_, i64>(1)?).unwrap_or(0);
            match state.as_str() {
                "queued" => counts.queued = n,
                "running" => counts.running = n,
                "done" => counts.done = n,
                _ => counts.failed += n,
            }
        }
        Ok(counts)
    }
}
