//! `decision`: one approver's decision on one approval step of one order.
//!
//! Written only by the approver named in that step. The document id is derived from the order,
//! submission, step and approver ([`Decision::id_for`]), so every device of one approver writes
//! the *same* document: two devices deciding differently offline merge last-writer-wins inside
//! automerge (both create the document with the same sequence of operations, so one device's
//! whole decision wins, by actor id), and the relay applies whatever the merged document says,
//! which every replica agrees on.

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, IndexFields};
use crate::id::DocumentId;

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hydrate, Reconcile)]
pub enum Verdict {
    /// The step is approved.
    Approve,
    /// The step is rejected; a reason is required.
    Reject,
}

/// One approver's decision.
#[derive(Debug, Clone, PartialEq, Hydrate, Reconcile)]
pub struct Decision {
    /// The order's document id.
    pub order_id: String,
    /// The index of the approval step in the order review.
    pub step: u64,
    /// The order's submission number the decided review is for; a decision on an earlier
    /// submission is never applied to a later one. 0: not recorded (older decisions).
    #[autosurgeon(missing = "Default::default")]
    pub submission: u64,
    /// The approver's user id (the document's only writer).
    pub approver: String,
    /// Approve or reject.
    pub verdict: Verdict,
    /// Why; required for a rejection.
    pub reason: String,
    /// When the approver decided, ms since the Unix epoch.
    pub decided_at: i64,
}

impl Decision {
    /// The id of the decision document of `approver` on step `step` of submission `submission`
    /// of order `order_id`: the same on every device, so one approver's devices share it.
    pub fn id_for(order_id: &str, submission: u64, step: u64, approver: &str) -> DocumentId {
        DocumentId::derived(
            DocKind::Decision,
            &[order_id.as_bytes(), &submission.to_be_bytes(), &step.to_be_bytes(), approver.as_bytes()],
        )
    }
}

impl DocumentModel for Decision {
    const KIND: DocKind = DocKind::Decision;
    const SCHEMA: u64 = 1;

    fn index_fields(&self) -> IndexFields {
        IndexFields {
            status: Some(match self.verdict {
                Verdict::Approve => "approve".to_owned(),
                Verdict::Reject => "reject".to_owned(),
            }),
            owner: Some(self.approver.clone()),
            subject_id: Some(self.order_id.clone()),
            created_at: Some(self.decided_at),
            updated_at: Some(self.decided_at),
            ..IndexFields::default()
        }
    }
}
