//! `POST /v1/inspections/{id}/photos/{sha256}/review` with `{"decision": "accepted" |
//! "rejected", "reason": "…"}`: a supervisor's manager or HQ decides about a photo the scorer
//! put at review ([`crate::services::inspections::review`]); the answer is the inspection's new
//! score. Bad input is a 400 naming it, a rep or supervisor 403, an inspection outside the
//! caller's scope 404, a photo not to review 409; nothing changes unless it succeeds.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Error;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::openapi::JsonObject;
use crate::services::accounts::Caller;
use crate::services::inspections::review::{self, PhotoDecision};
use crate::state::AppState;

/// The body of a photo review.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `accepted` or `rejected`.
    pub decision: String,
    /// Why.
    pub reason: String,
}

/// `POST /v1/inspections/{id}/photos/{sha256}/review`.
#[utoipa::path(
    post, path = "/v1/inspections/{id}/photos/{sha256}/review", tag = "read",
    params(
        ("id" = String, Path, description = "the inspection's id"),
        ("sha256" = String, Path, description = "the photo's SHA-256, lowercase hex"),
    ),
    request_body = ReviewBody,
    responses(
        (status = 200, description = "the inspection's new score: `inspection_id`, `score`, `verdict`, `photo` (docs/scoring.md)", body = JsonObject),
        (status = 400, description = "bad input, naming it: nothing changed", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "neither the supervisor's manager nor HQ", body = ErrorBody),
        (status = 404, description = "no such inspection in the caller's scope", body = ErrorBody),
        (status = 409, description = "the photo is not to review", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn review_photo(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, sha256)): Path<(String, String)>,
    body: Result<Json<ReviewBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) =
        body.map_err(|e| Error::bad_request("invalid-input", format!("invalid photo review: {}", e.body_text())))?;
    let decided = PhotoDecision { inspection_id: &id, sha256: &sha256, decision: &body.decision, reason: &body.reason };
    let score = review::review_photo(state.storage.as_ref(), &state.blobs, &caller, decided, state.clock.now()).await?;
    let photo = score.photos.iter().find(|p| p.sha256 == sha256);
    Ok(Json(json!({
        "inspection_id": id,
        "score": score.score,
        "verdict": score.verdict.as_str(),
        "photo": photo.map(|p| json!({ "sha256": p.sha256, "trust": p.trust.as_str(), "reasons": p.reasons })),
    })))
}
