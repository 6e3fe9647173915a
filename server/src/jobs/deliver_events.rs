//! The event subscriptions' webhook deliverer: its own task, like the NATS publisher, so that a
//! receiver that fails and is retried never holds up a review. It runs a round
//! ([`services::events::webhooks::deliver_round`]) after each stored write or every half second.

use std::time::Duration;

use crate::services::events::webhooks::{self, RetryPolicy};
use crate::state::AppState;

/// The longest wait before the subscriptions are looked at again when nothing announced a write.
const POLL: Duration = Duration::from_millis(500);

/// Runs until [`AppState::shutdown`].
pub async fn run(state: AppState) {
    let policy = RetryPolicy {
        first_pause: state.config.subscription_retry,
        attempts: state.config.subscription_attempts,
        timeout: state.config.webhook_timeout,
    };
    let mut writes = state.storage.announcements();
    loop {
        match webhooks::deliver_round(state.storage.as_ref(), policy).await {
            Ok(round) if round.delivered + round.dead > 0 => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "event subscriptions not served this round"),
        }
        tokio::select! {
            () = state.shutdown.wait() => return,
            _ = writes.recv() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
