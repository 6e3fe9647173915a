//! Approval decisions on the phone: a manager or HQ user decides an approval step, even offline.
//!
//! The decision is a `decision` document owned by the signed-in approver, with the id
//! [`Decision::id_for`] derives from the order, submission, step and approver: deciding again on
//! this device edits it, and another device of the same approver writes the same document, so
//! concurrent decisions merge into one that every replica (and the relay) agrees on.

use super::LocalStore;
use super::feed::{ChangeOrigin, DocChange};
use crate::clock::now_ms;
use crate::doc::{self, Decision, DocKind, DocumentModel, OrderReview, Verdict};
use crate::error::{Error, Result};
use crate::id::DocumentId;
use crate::identity::Role;
use crate::rules::{DecisionInput, DecisionRefused, check_decision};

impl LocalStore {
    /// Decides approval step `step` of an order as the signed-in manager or HQ user, and returns
    /// the decision document's id. The order's review must be on this device and `step` must be
    /// its current step, for this user; a rejection needs a reason. The relay checks all of it
    /// again when the decision arrives.
    pub fn decide(&self, order_id: &DocumentId, step: u64, verdict: Verdict, reason: &str) -> Result<DocumentId> {
        let identity = self.require_identity()?;
        if !matches!(identity.role, Role::Manager | Role::Hq) {
            return Err(Error::InvalidInput {
                field: "role",
                reason: format!("a {} cannot decide approval steps; managers and hq can", identity.role),
            });
        }
        let (_, review) = self
            .order_review(order_id)?
            .ok_or_else(|| Error::NotFound { kind: Some(DocKind::OrderReview), id: format!("of order {order_id}") })?;
        let input = DecisionInput { step, approver: &identity.user_id, verdict, reason, submission: review.submission };
        let refused = |refusal: DecisionRefused| Error::InvalidInput { field: "step", reason: refusal.to_string() };
        check_decision(&review, &review.owner, &input).map_err(refused)?;
        if review.current_step().and_then(|i| u64::try_from(i).ok()) != Some(step) {
            return Err(refused(DecisionRefused::NotCurrent {
                order_id: order_id.to_string(),
                step,
                outcome: review.outcome.as_str(),
            }));
        }
        let decision = Decision {
            order_id: order_id.to_string(),
            step,
            submission: review.submission,
            approver: identity.user_id.clone(),
            verdict,
            reason: reason.trim().to_owned(),
            decided_at: now_ms(),
        };
        let id = Decision::id_for(order_id.as_str(), review.submission, step, &identity.user_id);
        let exists = self.lock().exists(&id)?;
        if exists {
            self.edit_doc(
                &id,
                |current: &mut Decision| {
                    *current = decision.clone();
                    Ok(())
                },
                |_| Ok(()),
            )?;
        } else {
            let mut inner = self.lock();
            let am = doc::create(&id, inner.actor.clone(), &decision)?;
            inner.commit(&id, am, &[], ChangeOrigin::Local, |_| Ok(()))?;
            drop(inner);
            self.feed.publish(DocChange { id: id.clone(), kind: Decision::KIND, origin: ChangeOrigin::Local });
        }
        Ok(id)
    }

    /// The reviews on this device whose current step waits on `approver`, with that step's
    /// index: the earliest deadline first (steps without one last), then the oldest review.
    pub fn waiting_on(&self, approver: &str) -> Result<Vec<(usize, OrderReview)>> {
        let mut waiting = Vec::new();
        for id in self.ids_of_kind(DocKind::OrderReview)? {
            let review: OrderReview = self.get(&id)?;
            let current =
                review.current_step().filter(|i| review.steps.get(*i).is_some_and(|s| s.approver == approver));
            if let Some(index) = current {
                waiting.push((index, review));
            }
        }
        let due = |(index, review): &(usize, OrderReview)| {
            review.steps.get(*index).and_then(|s| s.sla.as_ref()).and_then(|sla| sla.due_at)
        };
        waiting.sort_by_key(|entry| (due(entry).is_none(), due(entry), entry.1.reviewed_at));
        Ok(waiting)
    }

    /// The signed-in approver's decisions on this device about an order, newest first.
    pub fn decisions_about(&self, order_id: &DocumentId) -> Result<Vec<(DocumentId, Decision)>> {
        let mut found = Vec::new();
        for id in self.ids_of_kind(DocKind::Decision)? {
            let decision: Decision = self.get(&id)?;
            if decision.order_id == order_id.as_str() {
                found.push((id, decision));
            }
        }
        found.sort_by_key(|(_, d)| std::cmp::Reverse(d.decided_at));
        Ok(found)
    }
}
