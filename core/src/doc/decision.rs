//! `decision`: one approver's decision on one approval step of one order.
//!
//! Written only by the approver named in that step. Two devices of the same approver deciding
//! differently merge last-writer-wins inside automerge; the relay then applies whatever the merged
//! document says, which every replica agrees on.

use autosurgeon::{Hydrate, Reconcile};

use super::{DocKind, DocumentModel, IndexFields};

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
    /// The approver's user id (the document's only writer).
    pub approver: String,
    /// Approve or reject.
    pub verdict: Verdict,
    /// Why; required for a rejection.
    pub reason: String,
    /// When the approver decided, ms since the Unix epoch.
    pub decided_at: i64,
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
