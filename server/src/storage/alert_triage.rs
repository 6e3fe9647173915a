//! What people did about alerts: acknowledged (with a note), snoozed until a time, reassigned.
//! Kept per cause key beside the inboxes (which the relay alone writes), so that one person's
//! action is seen by everyone who sees the alert. Each action is a history row and updates the
//! key's current state in the same transaction.

use async_trait::async_trait;

use crate::error::Result;
use crate::storage::NewEvent;

/// What was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageAction {
    /// Seen and being handled, with an optional note.
    Acknowledge {
        /// The note, empty for none.
        note: String,
    },
    /// Out of the open list until this time (ms since the Unix epoch).
    Snooze {
        /// When it comes back.
        until: i64,
    },
    /// Handed to another user (their user id).
    Reassign {
        /// The new owner's user id.
        assignee: String,
    },
}

impl TriageAction {
    /// The name stored in the history: `acknowledge`, `snooze`, `reassign`.
    pub fn name(&self) -> &'static str {
        match self {
            TriageAction::Acknowledge { .. } => "acknowledge",
            TriageAction::Snooze { .. } => "snooze",
            TriageAction::Reassign { .. } => "reassign",
        }
    }
}

/// One action on one alert, by one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageRecord {
    /// The alert's cause key.
    pub alert_key: String,
    /// What was done.
    pub action: TriageAction,
    /// Who did it (user id).
    pub actor: String,
    /// When, ms since the Unix epoch.
    pub at: i64,
}

/// The triage of alerts.
#[async_trait]
pub trait AlertTriageStore {
    /// Records `record` in the history and makes it the key's current acknowledgement, snooze or
    /// owner, and stores the `events` it makes in the outbox, in one transaction.
    async fn record_triage(&self, tenant_id: i64, record: &TriageRecord, events: &[NewEvent]) -> Result<()>;

    /// Forgets the history and state of keys no inbox holds any more whose last action is
    /// older than `before` (their alerts were pruned); returns how many keys.
    async fn prune_triage(&self, tenant_id: i64, before: i64) -> Result<u64>;
}
