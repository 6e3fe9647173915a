//! Approvals for managers: the approval steps waiting for the signed-in user, and deciding
//! them — offline too: a decision is a `decision` document that syncs like an order.

use fieldsync_core::doc::{OrderReview as CoreReview, Verdict as CoreVerdict};
use fieldsync_core::i18n::Language;

use crate::error::FieldSyncError;
use crate::order::{ApprovalStep, Finding};
use crate::phone::{FieldSyncPhone, document_id, lock};

/// An approver's decision on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Verdict {
    /// The step is approved.
    Approve,
    /// The step is rejected; a reason is required.
    Reject,
}

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
    /// The step's deadline, ms since the Unix epoch, if its policy rule gives it an SLA.
    pub due_at: Option<i64>,
    /// Who the step was waiting on before it escalated to the signed-in user, if it did.
    pub escalated_from: Option<String>,
}

impl PendingApproval {
    fn new(index: usize, review: CoreReview, language: Language) -> Option<Self> {
        let step = review.steps.get(index)?.clone();
        let sla = step.sla.clone();
        Some(PendingApproval {
            step: ApprovalStep::new(index, step),
            order_id: review.order_id,
            rep: review.owner,
            store_id: review.store_id,
            total_cents: review.total_cents,
            findings: review.findings.into_iter().map(|f| Finding::new(f, language)).collect(),
            reviewed_at: review.reviewed_at,
            due_at: sla.as_ref().and_then(|sla| sla.due_at),
            escalated_from: sla.and_then(|sla| sla.escalation).filter(|e| e.from != e.to).map(|e| e.from),
        })
    }
}

#[uniffi::export]
impl FieldSyncPhone {
    /// The approval steps on this phone whose turn it is and whose approver is the signed-in
    /// user, oldest review first. Reviews arrive with sync.
    pub fn pending_approvals(&self) -> Result<Vec<PendingApproval>, FieldSyncError> {
        let mut pending = self.my_pending_approvals()?;
        pending.sort_by_key(|p| p.reviewed_at);
        Ok(pending)
    }

    /// "Waiting on me": the approval steps on this phone whose turn it is and whose approver is
    /// the signed-in user, the earliest deadline first (overdue ones lead), steps without a
    /// deadline last, oldest review first among them.
    pub fn my_pending_approvals(&self) -> Result<Vec<PendingApproval>, FieldSyncError> {
        let me = self.user_id()?;
        let waiting = self.store.waiting_on(&me)?;
        let language = self.current_language();
        Ok(waiting.into_iter().filter_map(|(index, review)| PendingApproval::new(index, review, language)).collect())
    }

    /// Sets the signed-in manager's or HQ user's out-of-office (needs the network): approval
    /// steps routed to them from `from` until `until` (ms since the Unix epoch, `until`
    /// excluded) go to the user named `delegate`, who decides on their behalf. The relay refuses
    /// a delegate of insufficient role and a delegation that loops back (`Refused`).
    pub fn set_out_of_office(&self, delegate: String, from: i64, until: i64) -> Result<(), FieldSyncError> {
        let (base_url, token) = self.relay()?;
        let trust = lock(&self.trust).clone();
        Ok(fieldsync_core::sync::http::set_out_of_office(&trust, &base_url, &token, &delegate, from, until)?)
    }

    /// Ends the signed-in user's out-of-office (needs the network).
    pub fn end_out_of_office(&self) -> Result<(), FieldSyncError> {
        let (base_url, token) = self.relay()?;
        let trust = lock(&self.trust).clone();
        Ok(fieldsync_core::sync::http::end_out_of_office(&trust, &base_url, &token)?)
    }

    /// Decides step `step` of an order as the signed-in manager or HQ user, on the phone (it
    /// syncs with the next sync; the relay checks it again). The order's review must be on the
    /// phone and `step` its current step, for this user; a rejection needs a `reason`. Deciding
    /// again replaces the decision. Returns the decision document's id.
    pub fn decide(
        &self,
        order_id: String,
        step: u32,
        verdict: Verdict,
        reason: String,
    ) -> Result<String, FieldSyncError> {
        let verdict = match verdict {
            Verdict::Approve => CoreVerdict::Approve,
            Verdict::Reject => CoreVerdict::Reject,
        };
        Ok(self.store.decide(&document_id(&order_id)?, u64::from(step), verdict, &reason)?.to_string())
    }
}
