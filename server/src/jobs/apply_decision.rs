//! The `apply-decision` job: when an approver's `decision` document is stored, apply it to the
//! order's review with core's rules ([`fieldsync_core::rules::approval`]).
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
//! reject form ([`decide_for`], called by `http::decisions::decide_order`), with the one
//! difference that over HTTP only the current step can be decided (no revision of a decided
//! step, see [`Revision`]).

use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{Decision, OrderReview};
use fieldsync_core::rules::{Applied, DecisionInput, DecisionRefused, Revision, apply_decision};
use fieldsync_core::{DocKind, DocumentId};

use super::review_order::{find_review, job_document, sync_reservation};
use crate::documents::{self, edit_as_relay};
use crate::error::Result;
use crate::state::AppState;
use crate::state::Caches;
use crate::storage::{DocMeta, Job, Storage};

/// The job kind.
pub const KIND: &str = "apply-decision";

/// Whether a stored document calls for applying: any decision.
pub fn wants(meta: &DocMeta) -> bool {
    meta.kind == DocKind::Decision
}

/// Runs an `apply-decision` job: applies the decision document, or logs why not.
pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let id = job_document(job)?;
    let decision: Decision = documents::read(state.storage.as_ref(), job.tenant_id, &id).await?;
    match apply(state.storage.as_ref(), &state.caches, job.tenant_id, &decision, Revision::Allowed, now_ms()).await? {
        Ok((applied, review)) => {
            tracing::info!(decision = %id, order = %decision.order_id, ?applied, outcome = review.outcome.as_str(), "decision applied");
        }
        Err(refused) => tracing::warn!(decision = %id, order = %decision.order_id, %refused, "decision ignored"),
    }
    Ok(())
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
    let input = DecisionInput {
        step: decision.step,
        approver: &decision.approver,
        verdict: decision.verdict,
        reason: &decision.reason,
        submission: decision.submission,
    };
    let outcome = edit_as_relay(storage, tenant_id, &review_id, |review: &mut OrderReview| {
        let owner = review.owner.clone();
        Ok(apply_decision(review, &owner, &input, revision, now).map(|applied| (applied, review.clone())))
    })
    .await?;
    if let Ok((Applied::Decided | Applied::Revised, review)) = &outcome {
        sync_reservation(storage, caches, tenant_id, review).await?;
    }
    Ok(outcome)
}

/// The decision document of `decision` as the relay writes it for an HTTP decision: the id
/// every device of the approver shares, created or overwritten.
pub async fn write_decision(storage: &dyn Storage, tenant_id: i64, decision: &Decision) -> Result<DocumentId> {
    let id = Decision::id_for(&decision.order_id, decision.submission, decision.step, &decision.approver);
    if storage.load_doc(tenant_id, &id).await?.is_some() {
        edit_as_relay(storage, tenant_id, &id, |current: &mut Decision| {
            *current = decision.clone();
            Ok(())
        })
        .await?;
    } else {
        documents::create_as_relay_with_id(storage, tenant_id, &id, decision).await?;
    }
    Ok(id)
}

/// Checks, writes and applies a decision made over HTTP; only the current step can be decided.
pub async fn decide_for(
    storage: &dyn Storage,
    caches: &Caches,
    tenant_id: i64,
    review: &OrderReview,
    decision: &Decision,
    now: i64,
) -> Result<Result<(DocumentId, OrderReview), DecisionRefused>> {
    let input = DecisionInput {
        step: decision.step,
        approver: &decision.approver,
        verdict: decision.verdict,
        reason: &decision.reason,
        submission: decision.submission,
    };
    if let Err(refused) = fieldsync_core::rules::check_decision(review, &review.owner, &input) {
        return Ok(Err(refused));
    }
    if review.current_step().and_then(|i| u64::try_from(i).ok()) != Some(decision.step) {
        return Ok(Err(DecisionRefused::NotCurrent {
            order_id: review.order_id.clone(),
            step: decision.step,
            outcome: review.outcome.as_str(),
        }));
    }
    let id = write_decision(storage, tenant_id, decision).await?;
    Ok(apply(storage, caches, tenant_id, decision, Revision::Forbidden, now).await?.map(|(_, review)| (id, review)))
}
