//! The approvals queue: what waits on the asking manager or HQ user, read from the read model
//! (the earliest deadline first, so the overdue steps lead), and bulk approval of a selection,
//! each order through the one decision path ([`super::decide_order`]), each outcome reported on
//! its own so that one stale order does not stop the rest.

use fieldsync_core::doc::{OrderReview, Verdict};
use fieldsync_core::i18n::Message;
use fieldsync_core::{DocKind, DocumentId, Role};

use super::decide::{DecisionRequest, decide_order};
use crate::error::{Error, Result};
use crate::messages;
use crate::services::Caches;
use crate::services::accounts::Caller;
use crate::services::listing;
use crate::storage::Storage;
use crate::storage::queries::{self, OrderFilter, WaitingRow};

/// Most orders one bulk approval takes.
pub const MAX_BULK: usize = 200;

/// The orders waiting on `caller`'s decision, in their scope, earliest deadline first.
pub async fn waiting_on_me(storage: &dyn Storage, caller: &Caller) -> Result<Vec<WaitingRow>> {
    if !matches!(caller.role, Role::Manager | Role::Hq) {
        return Err(Error::forbidden(Message::new("refusal-approver-role").part("role", messages::role(caller.role))));
    }
    let filter = OrderFilter::all(listing::reach(&caller.scope(), DocKind::Order));
    queries::waiting_on(storage, caller.tenant_id, &filter, &caller.user_id).await
}

/// How long is left until `due_at` at `now`, in ms (negative: overdue by that much).
pub fn time_left(due_at: i64, now: i64) -> i64 {
    due_at.saturating_sub(now)
}

/// One order picked for bulk approval: the step and submission the approver saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    /// The order's id.
    pub order_id: String,
    /// The step the approver saw waiting (index, from 0).
    pub step: u64,
    /// The submission the approver saw.
    pub submission: u64,
}

impl Pick {
    /// Reads `order-id:step:submission`, as the queue's check boxes carry it.
    pub fn parse(text: &str) -> Result<Pick> {
        let bad =
            || Error::invalid("invalid-input", Message::new("refusal-selection").arg("selection", format!("{text:?}")));
        let mut parts = text.trim().split(':');
        let (Some(order_id), Some(step), Some(submission), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let order_id: DocumentId = order_id.parse().map_err(|_| bad())?;
        Ok(Pick {
            order_id: order_id.to_string(),
            step: step.parse().map_err(|_| bad())?,
            submission: submission.parse().map_err(|_| bad())?,
        })
    }
}

/// What became of one order of a bulk approval.
#[derive(Debug)]
pub struct BulkOutcome {
    /// The order's id.
    pub order_id: String,
    /// The review after the approval, or why this order was not approved (nothing changed).
    pub result: Result<OrderReview>,
}

/// Approves each picked order as `caller` at `now`, each through [`decide_order`] with the step
/// and submission the approver saw (a page gone stale is refused for that order alone). A
/// selection that is empty or larger than [`MAX_BULK`] is refused whole.
pub async fn approve_many(
    storage: &dyn Storage,
    caches: &Caches,
    caller: &Caller,
    picks: &[Pick],
    now: i64,
) -> Result<Vec<BulkOutcome>> {
    if picks.is_empty() {
        return Err(Error::invalid("invalid-input", Message::new("refusal-nothing-selected")));
    }
    if picks.len() > MAX_BULK {
        let message = Message::new("refusal-too-many-selected").arg("count", picks.len()).arg("max", MAX_BULK);
        return Err(Error::invalid("invalid-input", message));
    }
    let mut outcomes = Vec::with_capacity(picks.len());
    for pick in picks {
        let request = DecisionRequest {
            step: pick.step,
            verdict: Verdict::Approve,
            reason: String::new(),
            submission: Some(pick.submission),
        };
        let result = match pick.order_id.parse::<DocumentId>() {
            Ok(id) => decide_order(storage, caches, caller, &id, &request, now).await.map(|(_, review)| review),
            Err(error) => Err(error.into()),
        };
        outcomes.push(BulkOutcome { order_id: pick.order_id.clone(), result });
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pick_reads_order_step_and_submission_and_a_bad_one_is_named() {
        let id = DocumentId::random().to_string();
        let pick = Pick::parse(&format!("{id}:1:3")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pick, Pick { order_id: id.clone(), step: 1, submission: 3 });
        for bad in ["", "x:1:1", &format!("{id}:1"), &format!("{id}:a:1"), &format!("{id}:1:1:1")] {
            let error = Pick::parse(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(&format!("{bad:?}")), "{bad}: {error}");
        }
    }
}
