//! The `review-order` job's handler: reviews the order the job names
//! ([`crate::services::orders::review_order`]), or a batch of them at once
//! ([`crate::services::orders::review::review_orders`]).

use super::job_document;
use crate::error::{Error, Result};
use crate::services::orders;
use crate::state::AppState;
use crate::storage::Job;

/// Runs a `review-order` job.
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let order_id = job_document(job)?;
    let done = orders::review_order(state.storage.as_ref(), &state.caches, job.tenant_id, &order_id, state.clock.now())
        .await?;
    tracing::info!(order = %order_id, ?done, "order reviewed");
    Ok(())
}

/// Runs a batch of one tenant's `review-order` jobs; answers each job's outcome, in order.
pub async fn run_batch(state: &AppState, tenant_id: i64, jobs: &[&Job]) -> Vec<Result<()>> {
    let mut order_ids = Vec::with_capacity(jobs.len());
    let mut unreadable: Vec<Option<Error>> = Vec::with_capacity(jobs.len());
    for job in jobs {
        match job_document(job) {
            Ok(id) => {
                order_ids.push(id);
                unreadable.push(None);
            }
            Err(error) => unreadable.push(Some(error)),
        }
    }
    let reviewed =
        orders::review::review_orders(state.storage.as_ref(), &state.caches, tenant_id, &order_ids, state.clock.now())
            .await;
    let mut reviewed = match reviewed {
        Ok(done) => done.into_iter().zip(order_ids).map(|(done, id)| done.map(|done| (id, done))).collect::<Vec<_>>(),
        Err(error) => {
            // What the batch shares failed: each job fails with it and is retried on its own.
            let reason = error.to_string();
            order_ids.iter().map(|_| Err(Error::Conflict(format!("batch review failed: {reason}")))).collect()
        }
    }
    .into_iter();
    tracing::info!(orders = jobs.len(), "orders reviewed in a batch");
    unreadable
        .into_iter()
        .map(|error| match error {
            Some(error) => Err(error),
            None => match reviewed.next() {
                Some(Ok((order, done))) => {
                    tracing::debug!(%order, ?done, "order reviewed");
                    Ok(())
                }
                Some(Err(error)) => Err(error),
                None => Err(Error::Conflict("batch review answered fewer orders than it was given".into())),
            },
        })
        .collect()
}
