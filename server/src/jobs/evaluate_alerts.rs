//! The `evaluate-alerts` job's handler: evaluates the round of the tenant's alerts the job names
//! ([`crate::services::alerts::evaluate_round`]) at the relay's clock, then prunes the alerts
//! closed longer ago than the retention period ([`crate::services::alerts::prune_closed`]).

use crate::error::{Error, Result};
use crate::services::alerts;
use crate::state::AppState;
use crate::storage::Job;

/// Runs an `evaluate-alerts` job (payload `{"round": n, "reason": "…"}`).
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload)
        .map_err(|e| Error::bad_request("invalid-job", format!("job {} has an unreadable payload: {e}", job.id)))?;
    let round = payload["round"].as_i64().unwrap_or(0);
    let storage = state.storage.as_ref();
    let now = state.clock.now();
    let done = alerts::evaluate_round(storage, &state.caches, Some(&state.jobs), job.tenant_id, round, now).await?;
    let retention = i64::try_from(state.config.alert_retention.as_millis()).unwrap_or(i64::MAX);
    let pruned = alerts::prune_closed(storage, job.tenant_id, now.saturating_sub(retention)).await?;
    tracing::info!(
        tenant = job.tenant_id,
        reason = payload["reason"].as_str().unwrap_or(""),
        ?done,
        pruned,
        "alerts evaluated"
    );
    Ok(())
}

/// Queues an evaluation of every tenant that holds documents at relay start, then every
/// `state.config.alert_interval` until the relay stops (spawn it beside the job runner).
pub async fn run_schedule(state: AppState) {
    let storage = state.storage.as_ref();
    alerts::queue_all(storage, Some(&state.jobs), "relay start").await;
    let period = state.config.alert_interval.max(std::time::Duration::from_secs(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = state.shutdown.wait() => return,
            _ = ticks.tick() => alerts::queue_all(storage, Some(&state.jobs), "periodic").await,
        }
    }
}
