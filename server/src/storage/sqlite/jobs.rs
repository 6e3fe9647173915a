//! [`JobStore`] on SQLite.

use async_trait::async_trait;
use rusqlite::{Connection, TransactionBehavior, params};

use super::SqliteStorage;
use crate::error::Result;
use crate::storage::{Job, JobCounts, JobKinds, JobStore, NewJob};

#[async_trait]
impl JobStore for SqliteStorage {
    async fn enqueue_job(&self, tenant_id: i64, kind: &str, key: &str, payload: &str, run_after: i64) -> Result<bool> {
        let (kind, key, payload) = (kind.to_owned(), key.to_owned(), payload.to_owned());
        self.write(move |conn| insert_job(conn, tenant_id, &kind, &key, &payload, run_after)).await
    }

    async fn enqueue_jobs(&self, tenant_id: i64, jobs: &[NewJob]) -> Result<usize> {
        if jobs.is_empty() {
            return Ok(0);
        }
        let jobs = jobs.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut queued = 0;
            for job in &jobs {
                if insert_job(&tx, tenant_id, &job.kind, &job.key, &job.payload, job.run_after)? {
                    queued += 1;
                }
            }
            tx.commit()?;
            Ok(queued)
        })
        .await
    }

    async fn claim_jobs_of(
        &self,
        worker: &str,
        kinds: JobKinds<'_>,
        limit: u32,
        now: i64,
        lease_ms: i64,
    ) -> Result<Vec<Job>> {
        let worker = worker.to_owned();
        let (filter, names): (String, Vec<String>) = match kinds {
            JobKinds::All | JobKinds::AllBut([]) => (String::new(), Vec::new()),
            JobKinds::Only([]) => return Ok(Vec::new()),
            JobKinds::Only(names) => (format!(" AND kind IN ({})", placeholders(3, names.len())), owned(names)),
            JobKinds::AllBut(names) => (format!(" AND kind NOT IN ({})", placeholders(3, names.len())), owned(names)),
        };
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let sql = format!(
                "SELECT id, tenant_id, kind, key, payload, attempts FROM jobs
                 WHERE ((state = 'queued' AND run_after <= ?1) OR (state = 'running' AND leased_until <= ?1)){filter}
                 ORDER BY run_after, id LIMIT ?2"
            );
            let mut params: Vec<rusqlite::types::Value> = vec![now.into(), i64::from(limit).into()];
            params.extend(names.into_iter().map(rusqlite::types::Value::from));
            let jobs: Vec<Job> = tx
                .prepare_cached(&sql)?
                .query_map(rusqlite::params_from_iter(params), |r| {
                    Ok(Job {
                        id: r.get(0)?,
                        tenant_id: r.get(1)?,
                        kind: r.get(2)?,
                        key: r.get(3)?,
                        payload: r.get(4)?,
                        attempts: r.get::<_, i64>(5)?.max(0) as u32,
                    })
                })?
                .collect::<Result<_, _>>()?;
            for job in &jobs {
                tx.prepare_cached(
                    "UPDATE jobs SET state = 'running', leased_by = ?2, leased_until = ?3, attempts = attempts + 1
                     WHERE id = ?1",
                )?
                .execute(params![job.id, worker, now + lease_ms])?;
            }
            tx.commit()?;
            Ok(jobs)
        })
        .await
    }

    async fn renew_job_leases(&self, worker: &str, ids: &[i64], until: i64) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let (worker, ids) = (worker.to_owned(), ids.to_vec());
        self.write(move |conn| {
            let tx = conn.transaction()?;
            for id in ids {
                tx.prepare_cached(
                    "UPDATE jobs SET leased_until = ?3 WHERE id = ?1 AND leased_by = ?2 AND state = 'running'",
                )?
                .execute(params![id, worker, until])?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn complete_jobs(&self, ids: &[i64], now: i64) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = ids.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut stmt = tx.prepare_cached(
                    "UPDATE jobs SET state = 'done', finished_at = ?2, leased_by = NULL, leased_until = NULL WHERE id = ?1",
                )?;
                for id in ids {
                    stmt.execute(params![id, now])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn fail_job(&self, id: i64, error: &str, retry_at: Option<i64>, now: i64) -> Result<()> {
        let error = error.to_owned();
        self.write(move |conn| {
            match retry_at {
                Some(at) => conn
                    .prepare_cached(
                        "UPDATE jobs SET state = 'queued', run_after = ?2, last_error = ?3, leased_by = NULL,
                         leased_until = NULL WHERE id = ?1",
                    )?
                    .execute(params![id, at, error])?,
                None => conn
                    .prepare_cached(
                        "UPDATE jobs SET state = 'failed', finished_at = ?2, last_error = ?3, leased_by = NULL,
                         leased_until = NULL WHERE id = ?1",
                    )?
                    .execute(params![id, now, error])?,
            };
            Ok(())
        })
        .await
    }

    async fn jobs_before(&self, until: i64) -> Result<u64> {
        self.read(move |conn| {
            let n: i64 = conn
                .prepare_cached(
                    "SELECT COUNT(*) FROM jobs WHERE state = 'running' OR (state = 'queued' AND run_after < ?1)",
                )?
                .query_row([until], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }

    async fn job_counts(&self) -> Result<JobCounts> {
        self.read(|conn| {
            let mut counts = JobCounts::default();
            let mut stmt = conn.prepare_cached("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (state, n) = row?;
                let n = n.max(0) as u64;
                match state.as_str() {
                    "queued" => counts.queued = n,
                    "running" => counts.running = n,
                    "done" => counts.done = n,
                    _ => counts.failed += n,
                }
            }
            Ok(counts)
        })
        .await
    }
}

/// Queues a job unless one with the same tenant, kind and key exists; returns whether it was
/// queued. Runs on the caller's connection, so a document write can queue its job in its own
/// transaction.
pub(super) fn insert_job(
    conn: &Connection,
    tenant_id: i64,
    kind: &str,
    key: &str,
    payload: &str,
    run_after: i64,
) -> Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO jobs (tenant_id, kind, key, payload, run_after, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )?
        .execute(params![tenant_id, kind, key, payload, run_after])?;
    Ok(inserted == 1)
}

/// `?first, ?first+1, …`: `n` numbered placeholders.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}
