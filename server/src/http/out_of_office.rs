//! `/v1/me/out-of-office`: the caller's out-of-office delegation, for the phone API and
//! integrations (the dashboard has its own page). `PUT` with
//! `{"delegate": "hugo", "from": ms, "until": ms}` sets it (replacing the previous one), `GET`
//! shows it (`null` when none), `DELETE` ends it. The rules are the orders service's
//! ([`crate::services::orders::delegation`]): bad input is 400 naming it, a rep or supervisor
//! 403, and nothing changes unless it succeeds.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Error;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::openapi::JsonObject;
use crate::services::accounts::Caller;
use crate::services::orders::delegation;
use crate::state::AppState;
use crate::storage::Delegation;

/// The body of `PUT /v1/me/out-of-office`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutOfOfficeBody {
    /// The delegate's username.
    pub delegate: String,
    /// From, ms since the Unix epoch.
    pub from: i64,
    /// Until (excluded), ms since the Unix epoch.
    pub until: i64,
}

async fn json_of(state: &AppState, caller: &Caller, delegation: Option<Delegation>) -> Result<Value, Error> {
    let Some(d) = delegation else { return Ok(Value::Null) };
    let delegate = state.storage.find_user(caller.tenant_id, &d.delegate_id).await?;
    Ok(json!({
        "delegate": delegate.map(|u| u.username),
        "delegate_id": d.delegate_id,
        "from": d.starts_at,
        "until": d.ends_at,
        "active": d.holds_at(state.clock.now()),
    }))
}

/// `GET /v1/me/out-of-office`.
#[utoipa::path(
    get, path = "/v1/me/out-of-office", tag = "approvals",
    responses(
        (status = 200, description = "the caller's delegation, or null", body = JsonObject),
        (status = 401, description = "no valid session", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn show(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let delegation = delegation::out_of_office(state.storage.as_ref(), &caller).await?;
    Ok(Json(json!({ "out_of_office": json_of(&state, &caller, delegation).await? })))
}

/// `PUT /v1/me/out-of-office`.
#[utoipa::path(
    put, path = "/v1/me/out-of-office", tag = "approvals",
    request_body = OutOfOfficeBody,
    responses(
        (status = 200, description = "the delegation set", body = JsonObject),
        (status = 400, description = "invalid delegate or times", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "this role approves nothing", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn set(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<OutOfOfficeBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) =
        body.map_err(|e| Error::bad_request("invalid-input", format!("invalid out-of-office: {}", e.body_text())))?;
    let storage = state.storage.as_ref();
    let set = delegation::set_out_of_office(storage, &caller, &body.delegate, body.from, body.until, state.clock.now())
        .await?;
    Ok(Json(json!({ "out_of_office": json_of(&state, &caller, Some(set)).await? })))
}

/// `DELETE /v1/me/out-of-office`.
#[utoipa::path(
    delete, path = "/v1/me/out-of-office", tag = "approvals",
    responses(
        (status = 200, description = "whether a delegation ended", body = JsonObject),
        (status = 401, description = "no valid session", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn clear(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let ended = delegation::clear_out_of_office(state.storage.as_ref(), &caller).await?;
    Ok(Json(json!({ "ended": ended })))
}
