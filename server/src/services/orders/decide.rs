//! Deciding an approval step from a client (`POST /v1/orders/{id}/decision` and the dashboard's
//! approve / reject form): [`decide_order`] is the one decision path, so both get the same checks
//! and the same refusals. The relay writes the approver's `decision` document (the same document
//! their phones write, [`Decision::id_for`]) and applies it to the review at once
//! ([`super::apply`]); over HTTP only the current step can be decided (no revision of a decided
//! step, see [`Revision`]).
//!
//! Refusals are [`Error`] variants the edges map to a status: an order the caller may not read
//! is `NotFound`, a caller who is not the step's approver `Forbidden`, a step that is not waiting
//! `Conflict`.

use fieldsync_core::doc::{Decision, DocKind, OrderReview, Verdict};
use fieldsync_core::i18n::Message;
use fieldsync_core::rules::approval::display_step;
use fieldsync_core::rules::{DecisionInput, DecisionRefused, Revision};
use fieldsync_core::{DocumentId, Role};

use super::apply::apply;
use super::review::find_review;
use crate::documents::{self, edit_as_relay};
use crate::error::{Error, Result};
use crate::messages;
use crate::services::Caches;
use crate::services::accounts::Caller;
use crate::storage::Storage;

/// A decision asked for by an approver, from any client (JSON API or dashboard form).
#[derive(Debug, Clone)]
pub struct DecisionRequest {
    /// The approval step's index.
    pub step: u64,
    /// Approve or reject.
    pub verdict: Verdict,
    /// Why; required to reject.
    pub reason: String,
    /// The submission the approver saw, when the client knows it (the dashboard's form does):
    /// a decision on a page that went stale because the order was resubmitted is refused
    /// instead of landing on the new submission. `None`: the submission under review.
    pub submission: Option<u64>,
}

/// Parses `approve` or `reject`.
pub fn parse_verdict(text: &str) -> Result<Verdict> {
    match text {
        "approve" => Ok(Verdict::Approve),
        "reject" => Ok(Verdict::Reject),
        other => {
            Err(Error::invalid("invalid-input", Message::new("refusal-verdict").arg("verdict", format!("{other:?}"))))
        }
    }
}

/// The one decision path of the relay's HTTP surface, shared by `POST /v1/orders/{id}/decision`
/// and the dashboard's approve / reject form: the order must be in the caller's scope (else
/// `NotFound`), the caller a manager or HQ (else `Forbidden`), the order reviewed (else
/// `Conflict`), and core's rules decide the rest through [`decide_for`]: only the current step's
/// approver, never the order's own rep, a reason to reject. Anything refused changes nothing.
/// Returns the decision document's id and the review's new state; `now` is the relay's clock.
pub async fn decide_order(
    storage: &dyn Storage,
    caches: &Caches,
    caller: &Caller,
    order_id: &DocumentId,
    request: &DecisionRequest,
    now: i64,
) -> Result<(DocumentId, OrderReview)> {
    let not_found = || Error::not_found(format!("order {order_id}"));
    let order = storage.load_doc(caller.tenant_id, order_id).await?.ok_or_else(not_found)?;
    if order.meta.kind != DocKind::Order || !caller.scope().contains(&order.meta) {
        return Err(not_found());
    }
    if !matches!(caller.role, Role::Manager | Role::Hq) {
        return Err(Error::forbidden(Message::new("refusal-decider-role").part("role", messages::role(caller.role))));
    }
    let review = find_review(storage, caller.tenant_id, order_id.as_str()).await?;
    let review: OrderReview = match &review.stored {
        Some(stored) => fieldsync_core::doc::read(&review.id, &documents::load(stored)?)?,
        None => return Err(Error::conflict(Message::new("refusal-order-not-reviewed").arg("order", order_id))),
    };
    let decision = Decision {
        order_id: order_id.to_string(),
        step: request.step,
        submission: request.submission.unwrap_or(review.submission),
        approver: caller.user_id.clone(),
        verdict: request.verdict,
        reason: request.reason.trim().to_owned(),
        decided_at: now,
    };
    decide_for(storage, caches, caller.tenant_id, &review, &decision, now).await?.map_err(refused)
}

/// Core's refusal of a decision as the relay's: the same words (core's `Display`) as a message.
fn refused(refusal: DecisionRefused) -> Error {
    match refusal {
        DecisionRefused::OwnOrder { order_id, approver } => Error::forbidden(
            Message::new("refusal-decision-own-order").arg("approver", approver).arg("order", order_id),
        ),
        DecisionRefused::NotApprover { order_id, step, expected, approver } => Error::forbidden(
            Message::new("refusal-decision-not-approver")
                .arg("step", display_step(step))
                .arg("order", order_id)
                .arg("expected", expected)
                .arg("approver", approver),
        ),
        DecisionRefused::MissingReason { order_id, step } => Error::invalid(
            "invalid-input",
            Message::new("refusal-decision-reason").arg("step", display_step(step)).arg("order", order_id),
        ),
        DecisionRefused::UnknownStep { order_id, step } => Error::invalid(
            "invalid-input",
            Message::new("refusal-decision-unknown-step").arg("order", order_id).arg("step", display_step(step)),
        ),
        DecisionRefused::NotCurrent { order_id, step, outcome } => Error::conflict(
            Message::new("refusal-decision-not-current")
                .arg("step", display_step(step))
                .arg("order", order_id)
                .arg("outcome", outcome),
        ),
        DecisionRefused::OtherSubmission { order_id, decision, review } => Error::conflict(
            Message::new("refusal-decision-other-submission")
                .arg("decision", decision)
                .arg("order", order_id)
                .arg("review", review),
        ),
    }
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
    let input = DecisionInput::from(decision);
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
