//! `POST /v1/orders/{id}/decision`: an approver decides the current approval step of an order
//! from any HTTP client (an integration, the dashboard), as a phone would offline.
//!
//! Body: `{"step": 0, "verdict": "approve" | "reject", "reason": "…"}` (a reason is required to
//! reject). The relay writes the approver's `decision` document (the same document their phones
//! write, [`Decision::id_for`]) and applies it to the review at once; the answer is the review's
//! new state. An order the caller may not read answers 404; a caller who is not the step's
//! approver (a rep, another manager, the order's own rep) 403; a step that is not waiting 409.
//!
//! [`decide_order`] is the one decision path behind this endpoint and the dashboard's approve /
//! reject form (`dashboard::pages::decide`): both get the same checks and the same refusals.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use fieldsync_core::clock::now_ms;
use fieldsync_core::doc::{Decision, DocKind, OrderReview, StepState, Verdict};
use fieldsync_core::rules::DecisionRefused;
use fieldsync_core::{DocumentId, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::documents;
use crate::error::Error;
use crate::http::error::ApiError;
use crate::jobs::apply_decision::decide_for;
use crate::jobs::review_order::find_review;
use crate::state::AppState;

/// The body of a decision.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// The approval step's index.
    pub step: u64,
    /// `approve` or `reject`.
    pub verdict: String,
    /// Why; required to reject.
    #[serde(default)]
    pub reason: String,
}

fn step_state(state: StepState) -> &'static str {
    match state {
        StepState::Pending => "pending",
        StepState::Approved => "approved",
        StepState::Rejected => "rejected",
    }
}

/// The review as the answer shows it; `currency` is the ISO 4217 code of `total_cents`.
pub fn review_json(review: &OrderReview, currency: &str) -> Value {
    json!({
        "order_id": review.order_id,
        "submission": review.submission,
        "outcome": review.outcome.as_str(),
        "current_step": review.current_step(),
        "total_cents": review.total_cents,
        "currency": currency,
        "submitted_at": review.submitted_at,
        "decided_at": review.decided_at,
        "steps": review.steps.iter().map(|s| json!({
            "role": s.role,
            "approver": s.approver,
            "rule": s.rule,
            "state": step_state(s.state),
            "decided_at": s.decided_at,
            "reason": s.reason,
        })).collect::<Vec<_>>(),
        "findings": review.findings.iter().map(|f| json!({
            "code": f.code,
            "line_id": f.line_id,
            "text": f.text,
        })).collect::<Vec<_>>(),
    })
}

fn refused(refusal: DecisionRefused) -> Error {
    let reason = refusal.to_string();
    match refusal {
        DecisionRefused::OwnOrder { .. } | DecisionRefused::NotApprover { .. } => Error::Forbidden(reason),
        DecisionRefused::MissingReason { .. } | DecisionRefused::UnknownStep { .. } => {
            Error::bad_request("invalid-input", reason)
        }
        DecisionRefused::NotCurrent { .. } | DecisionRefused::OtherSubmission { .. } => Error::Conflict(reason),
    }
}

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
pub fn parse_verdict(text: &str) -> Result<Verdict, Error> {
    match text {
        "approve" => Ok(Verdict::Approve),
        "reject" => Ok(Verdict::Reject),
        other => {
            Err(Error::bad_request("invalid-input", format!("invalid verdict {other:?}: expected approve or reject")))
        }
    }
}

/// The one decision path of the relay's HTTP surface, shared by `POST /v1/orders/{id}/decision`
/// and the dashboard's approve / reject form: the order must be in the caller's scope (else
/// `NotFound`), the caller a manager or HQ (else `Forbidden`), the order reviewed (else
/// `Conflict`), and core's rules decide the rest through [`decide_for`]: only the current step's
/// approver, never the order's own rep, a reason to reject. Anything refused changes nothing.
/// Returns the decision document's id and the review's new state.
pub async fn decide_order(
    state: &AppState,
    caller: &Caller,
    order_id: &DocumentId,
    request: &DecisionRequest,
) -> Result<(DocumentId, OrderReview), Error> {
    let storage = state.storage.as_ref();
    let not_found = || Error::not_found(format!("order {order_id}"));
    let order = storage.load_doc(caller.tenant_id, order_id).await?.ok_or_else(not_found)?;
    if order.meta.kind != DocKind::Order || !caller.scope().contains(&order.meta) {
        return Err(not_found());
    }
    if !matches!(caller.role, Role::Manager | Role::Hq) {
        return Err(Error::Forbidden(format!("a {} cannot decide approval steps; managers and hq can", caller.role)));
    }
    let review = find_review(storage, caller.tenant_id, order_id.as_str()).await?;
    let review: OrderReview = match &review.stored {
        Some(stored) => fieldsync_core::doc::read(&review.id, &documents::load(stored)?)?,
        None => return Err(Error::Conflict(format!("order {order_id} has not been reviewed yet"))),
    };
    let decision = Decision {
        order_id: order_id.to_string(),
        step: request.step,
        submission: request.submission.unwrap_or(review.submission),
        approver: caller.user_id.clone(),
        verdict: request.verdict,
        reason: request.reason.trim().to_owned(),
        decided_at: now_ms(),
    };
    decide_for(storage, &state.caches, caller.tenant_id, &review, &decision, now_ms()).await?.map_err(refused)
}

/// Decides an approval step (see the module docs).
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    body: Result<Json<DecisionBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(text) =
        path.map_err(|e| Error::bad_request("invalid-id", format!("invalid order id in the path: {}", e.body_text())))?;
    let order_id: DocumentId =
        text.parse().map_err(|e: fieldsync_core::Error| Error::bad_request("invalid-id", e.to_string()))?;
    let Json(body) =
        body.map_err(|e| Error::bad_request("invalid-input", format!("invalid decision: {}", e.body_text())))?;
    let request = DecisionRequest {
        step: body.step,
        verdict: parse_verdict(&body.verdict)?,
        reason: body.reason,
        submission: None,
    };
    let (decision_id, review) = decide_order(&state, &caller, &order_id, &request).await?;
    let locale = crate::locale::of_tenant(state.storage.as_ref(), caller.tenant_id).await?;
    Ok(Json(json!({
        "decision_id": decision_id.as_str(),
        "step": body.step,
        "verdict": body.verdict,
        "review": review_json(&review, locale.currency()),
    })))
}
