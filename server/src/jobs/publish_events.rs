//! The event publisher: its own task (not a queue lane, so that a slow or absent NATS server
//! never delays a review), started when the relay has a NATS server
//! ([`crate::config::Config::nats_url`]). It publishes what the outbox holds beyond the
//! destination's cursor ([`services::events::jetstream::publish_round`]), then waits for the next
//! stored write (this node's or, on PostgreSQL, another's) or a short poll; while NATS cannot be
//! reached it retries with a growing pause, and resumes from the cursor when it can.

use std::time::Duration;

use crate::services::events::jetstream::{self, BATCH, TenantNames};
use crate::state::AppState;

/// The longest wait before the outbox is looked at again when nothing announced a write.
const POLL: Duration = Duration::from_millis(500);
/// The first and the longest pause after a failure.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Runs until [`AppState::shutdown`].
pub async fn run(state: AppState) {
    let Some(url) = state.config.nats_url.clone() else { return };
    let mut writes = state.storage.announcements();
    let mut names = TenantNames::default();
    let mut context = None;
    let mut pause = RETRY_FIRST;
    loop {
        let outcome = match &context {
            Some(context) => jetstream::publish_round(state.storage.as_ref(), context, &mut names).await,
            None => match jetstream::connect(&url).await {
                Ok(connected) => {
                    tracing::info!(url = %crate::config::redact(&url), "publishing the event feed to NATS JetStream");
                    context = Some(connected);
                    continue;
                }
                Err(error) => Err(error),
            },
        };
        match outcome {
            Ok(round) => {
                pause = RETRY_FIRST;
                if round.duplicates > 0 {
                    tracing::info!(duplicates = round.duplicates, "JetStream already had events published again");
                }
                if round.published >= BATCH as usize {
                    continue;
                }
                tokio::select! {
                    () = state.shutdown.wait() => return,
                    _ = writes.recv() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?pause, "event feed not delivered to NATS yet");
                // Connect again (and make sure of the stream: a NATS server restarted without
                // its storage has lost it) once the pause is over.
                context = None;
                tokio::select! {
                    () = state.shutdown.wait() => return,
                    () = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(RETRY_MAX);
            }
        }
    }
}
