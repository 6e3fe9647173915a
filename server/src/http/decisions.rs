//! `POST /v1/orders/{id}/decision`: an approver decides the current approval step of an order
//! from any HTTP client (an integration, the dashboard), as a phone would offline.
//!
//! Body: `{"step": 0, "verdict": "approve" | "reject", "reason": "…"}` (a reason is required to
//! reject). The relay writes the approver's `decision` document (the same document their phones
//! write, [`Decision::id_for`]) and applies it to the review at once; the answer is the review's
//! new state. An order the caller may not read answers 404; a caller who is not the step's
//! approver (a rep, another manager, the order's own rep) 403; a step that is not waiting 409.
//!
//! The handler parses the request, calls the orders service's one decision path
//! ([`orders::decide_order`], shared with the dashboard's approve / reject form) and renders the
//! review; the service's error variants map to the statuses above.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use fieldsync_core::DocumentId;
use fieldsync_core::doc::{OrderReview, StepState};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Error;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::openapi::JsonObject;
use crate::services::accounts::{self, Caller};
use crate::services::orders::{self, DecisionRequest, parse_verdict};
use crate::state::AppState;

/// The body of a decision.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
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
            "on_behalf_of": s.on_behalf_of,
            "due_at": s.sla.as_ref().and_then(|sla| sla.due_at),
            "escalation": s.sla.as_ref().and_then(|sla| sla.escalation.as_ref()).map(|e| json!({
                "from": e.from, "to": e.to, "at": e.at, "reason": e.reason,
            })),
        })).collect::<Vec<_>>(),
        "findings": review.findings.iter().map(|f| json!({
            "code": f.code,
            "line_id": f.line_id,
            "text": f.text,
            "args": f.args,
        })).collect::<Vec<_>>(),
    })
}

/// Decides an approval step (see the module docs).
#[utoipa::path(
    post, path = "/v1/orders/{id}/decision", tag = "approvals",
    params(("id" = String, Path, description = "the order's document id")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "the decision and the order's review after it", body = JsonObject),
        (status = 400, description = "invalid id or body", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "not the step's approver", body = ErrorBody),
        (status = 404, description = "no such order for the caller", body = ErrorBody),
        (status = 409, description = "the step is decided or not current", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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
    let (decision_id, review) =
        orders::decide_order(state.storage.as_ref(), &state.caches, &caller, &order_id, &request, state.clock.now())
            .await?;
    let locale = accounts::tenant_locale(state.storage.as_ref(), caller.tenant_id).await?;
    Ok(Json(json!({
        "decision_id": decision_id.as_str(),
        "step": body.step,
        "verdict": body.verdict,
        "review": review_json(&review, locale.currency()),
    })))
}
