//! Applying a decision (run by the `apply-decision` job, and by [`super::decide_order`]): when an
//! approver's `decision` document is stored, apply it to the order's review with core's rules
//! ([`fieldsync_core::rules::approval`]).
//!
//! Where the rule "only the approver named in that step may decide" is enforced: **here, when
//! applying**, not at admission. Admission already lets only a manager or HQ user write a
//! decision, and only one naming themselves as the approver; whether they are the approver of
//! *that step* depends on the review, which can change under an offline approver (a resubmitted
//! order is routed again). Refusing such a decision at sync would quarantine it on the approver's
//! phone for no fault of theirs; instead the relay ignores it, logs why, and the review (which
//! the approver's phone holds) shows the truth. An ignored decision changes nothing.
//!
//! The same function serves `POST /v1/orders/{id}/decision` and the dashboard's approve /
//! reject form ([`super::decide::decide_for`], called by [`super::decide_order`]), with the one
//! difference that over HTTP only the current step can be decided (no revision of a decided
//! step, see [`Revision`]).

use fieldsync_core::doc::{Decision, OrderReview};
use fieldsync_core::rules::{Applied, DecisionInput, DecisionRefused, Revision, apply_decision};
use fieldsync_core::{DocKind, DocumentId};

use super::deadline::{self, ClockSettings};
use super::reservation::sync_reservation;
use super::review::find_review;
use crate::documents::{self, edit_as_relay};
use crate::error::Result;
use crate::services::Caches;
use crate::storage::{DocMeta, Storage};

/// The job kind.
pub const KIND: &str = "apply-decision";

/// Whether a stored document calls for applying: any decision.
pub fn wants(meta: &DocMeta) -> bool {
    meta.kind == DocKind::Decision
}

/// Applies the stored decision document `id` to its order's review (what the `apply-decision`
/// job does): the decision, and what became of it ([`apply`]).
pub async fn apply_document(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    id: &DocumentId,
    now: i64,
) -> Result<(Decision, Result<(Applied, OrderReview), DecisionRefused>)> {
    let decision: Decision = documents::read(storage, tenant_id, id).await?;
    let outcome = apply(storage, caches, tenant_id, &decision, Revision::Allowed, now).await?;
    Ok((decision, outcome))
}

/// Applies a decision to its order's review, then makes the stock reservation follow the
/// outcome. The outer error is a storage failure; the inner one a refused decision (nothing
/// changed).
pub async fn apply(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    decision: &Decision,
    revision: Revision,
    now: i64,
) -> Result<Result<(Applied, OrderReview), DecisionRefused>> {
    let review = find_review(storage, tenant_id, &decision.order_id).await?;
    let no_review = || DecisionRefused::NotCurrent {
        order_id: decision.order_id.clone(),
        step: decision.step,
        outcome: "not reviewed",
    };
    if review.stored.is_none() {
        return Ok(Err(no_review()));
    }
    let review_id = review.id;
    let input = DecisionInput::from(decision);
    let settings = ClockSettings::load(storage, caches, tenant_id).await?;
    let outcome = edit_as_relay(storage, tenant_id, &review_id, |review: &mut OrderReview| {
        let owner = review.owner.clone();
        let applied = apply_decision(review, &owner, &input, revision, now);
        if let Ok(Applied::Decided | Applied::Revised) = applied {
            // The next step, if one waits now, starts its clock.
            deadline::start_clock(review, &settings, now);
        }
        Ok(applied.map(|applied| (applied, review.clone())))
    })
    .await?;
    if let Ok((Applied::Decided | Applied::Revised, review)) = &outcome {
        sync_reservation(storage, caches, tenant_id, review).await?;
        deadline::schedule(storage, tenant_id, review).await?;
        deadline::close_approval_alerts(storage, tenant_id, &decision.approver, &decision.order_id, now).await?;
    }
    Ok(outcome)
}
