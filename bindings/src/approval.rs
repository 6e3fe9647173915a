//! Approvals for managers: the approval steps waiting for the signed-in user.
//!
//! Deciding a step (approve, or reject with a reason) needs core to write a `decision` document,
//! which it cannot do yet; until then this module only lists what waits.

use fieldsync_core::DocKind;
use fieldsync_core::doc::OrderReview as CoreReview;

use crate::error::FieldSyncError;
use crate::order::{ApprovalStep, Finding};
use crate::phone::FieldSyncPhone;

/// An approval step waiting for the signed-in user, with what they need to decide it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingApproval {
    /// The order's id.
    pub order_id: String,
    /// The step waiting for a decision.
    pub step: ApprovalStep,
    /// The rep who submitted the order.
    pub rep: String,
    /// The store ordered for.
    pub store_id: String,
    /// The order total as the relay priced it, in cents.
    pub total_cents: i64,
    /// What the relay found (why approval is needed).
    pub findings: Vec<Finding>,
    /// When the relay reviewed the order, ms since the Unix epoch.
    pub reviewed_at: i64,
}

#[uniffi::export]
impl FieldSyncPhone {
    /// The approval steps on this phone whose turn it is and whose approver is the signed-in
    /// user, oldest review first. Reviews arrive with sync.
    pub fn pending_approvals(&self) -> Result<Vec<PendingApproval>, FieldSyncError> {
        let me = self.user_id()?;
        let mut pending = Vec::new();
        for id in self.store.ids_of_kind(DocKind::OrderReview)? {
            let review: CoreReview = self.store.get(&id)?;
            let current = review.current_step().and_then(|i| review.steps.get(i).map(|step| (i, step.clone())));
            if let Some((index, step)) = current.filter(|(_, step)| step.approver == me) {
                pending.push(PendingApproval {
                    step: ApprovalStep::new(index, step),
                    order_id: review.order_id,
                    rep: review.owner,
                    store_id: review.store_id,
                    total_cents: review.total_cents,
                    findings: review.findings.into_iter().map(Finding::from).collect(),
                    reviewed_at: review.reviewed_at,
                });
            }
        }
        pending.sort_by_key(|p| p.reviewed_at);
        Ok(pending)
    }
}
