//! `POST /v1/orders/{id}/decision`: an approver decides the current approval step of an order
//! from any HTTP client (an integration, the dashboard), as a phone would offline.
//!
//! Body: `{"step": 0, "verdict": "approve" | "reject", "reason": "…"}` (a reason is required to
//! reject). The relay writes the approver's `decision` document (the same document their phones
//! write, [`Decision::id_for`]) and applies it to the review at once; the answer is the review's
//! new state. An order the caller may not read answers 404; a caller who is not the step's
//! approver (a rep, another manager, the order's own rep) 403; a step that is not waiting 409.

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
use crate::jobs::review_order::review_id;
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

/// The review as the answer shows it.
pub fn review_json(review: &OrderReview) -> Value {
    json!({
        "order_id": review.order_id,
        "submission": review.submission,
        "outcome": review.outcome.as_str(),
        "current_step": review.current_step(),
        "total_cents": review.total_cents,
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
    let storage = state.storage.as_ref();
    let not_found = || Error::not_found(format!("order {order_id}"));
    let order = storage.load_doc(caller.tenant_id, &order_id).await?.ok_or_else(not_found)?;
    if order.meta.kind != DocKind::Order || !caller.scope().contains(&order.meta) {
        return Err(not_found().into());
    }
    if !matches!(caller.role, Role::Manager | Role::Hq) {
        return Err(
            Error::Forbidden(format!("a {} cannot decide approval steps; managers and hq can", caller.role)).into()
        );
    }
    let Json(body) =
        body.map_err(|e| Error::bad_request("invalid-input", format!("invalid decision: {}", e.body_text())))?;
    let verdict = match body.verdict.as_str() {
        "approve" => Verdict::Approve,
        "reject" => Verdict::Reject,
        other => {
            return Err(Error::bad_request(
                "invalid-input",
                format!("invalid verdict {other:?}: expected approve or reject"),
            )
            .into());
        }
    };
    let review_id = review_id(order_id.as_str());
    let review: OrderReview = match storage.load_doc(caller.tenant_id, &review_id).await? {
        Some(stored) => fieldsync_core::doc::read(&review_id, &documents::load(&stored)?)?,
        None => return Err(Error::Conflict(format!("order {order_id} has not been reviewed yet")).into()),
    };
    let decision = Decision {
        order_id: order_id.to_string(),
        step: body.step,
        submission: review.submission,
        approver: caller.user_id.clone(),
        verdict,
        reason: body.reason.trim().to_owned(),
        decided_at: now_ms(),
    };
    let (decision_id, review) =
        decide_for(storage, caller.tenant_id, &review, &decision, now_ms()).await?.map_err(refused)?;
    Ok(Json(json!({
        "decision_id": decision_id.as_str(),
        "step": body.step,
        "verdict": body.verdict,
        "review": review_json(&review),
    })))
}
