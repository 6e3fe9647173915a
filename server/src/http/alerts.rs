//! Working through alerts over JSON, as the dashboard's alerts page does
//! ([`crate::services::alerts::triage`]): `GET /v1/alerts/causes` lists one alert per cause in
//! the caller's scope (filters `state=open|snoozed|closed`, `kind`, `store`, `q`, `from`, `to`;
//! keyset pages with `next`, and `total`), and `POST /v1/alerts/acknowledge`
//! (`{"key", "note"}`), `/v1/alerts/snooze` (`{"key", "until": "YYYY-MM-DD"}`) and
//! `/v1/alerts/reassign` (`{"key", "assignee": username}`) act on one, answering the alert as
//! it now is. Bad input is a 400 naming it and changes nothing; an alert outside the caller's
//! scope is a 404, a closed one a 409.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Error;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::lists::query;
use crate::http::openapi::JsonObject;
use crate::services::accounts::{self, Caller};
use crate::services::alerts::triage::{self, CauseQuery};
use crate::services::listing::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::state::AppState;

/// The body of the three actions: the alert's cause key and what the action needs.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageBody {
    /// The alert's cause key (`key` of `GET /v1/alerts/causes`).
    pub key: String,
    /// An acknowledgement's note.
    #[serde(default)]
    pub note: Option<String>,
    /// A snooze's last day, `YYYY-MM-DD` in the tenant's zone: the alert comes back that day.
    #[serde(default)]
    pub until: Option<String>,
    /// A reassignment's new owner, by username.
    #[serde(default)]
    pub assignee: Option<String>,
}

fn body(body: Result<Json<TriageBody>, JsonRejection>) -> Result<TriageBody, Error> {
    body.map(|Json(b)| b)
        .map_err(|e| Error::bad_request("invalid-input", format!("invalid alert action: {}", e.body_text())))
}

async fn answer(state: &AppState, caller: &Caller, key: &str) -> Result<Json<Value>, ApiError> {
    let view = triage::cause(state.storage.as_ref(), caller, key, state.clock.now()).await?;
    Ok(Json(json!({ "alert": view })))
}

/// `GET /v1/alerts/causes`: a page of alerts, one per cause.
#[utoipa::path(
    get, path = "/v1/alerts/causes", tag = "alerts",
    params(CauseQuery),
    responses(
        (status = 200, description = "a page of alerts, one per cause: `items`, `next`, `total`, `limit`, `time_zone` (docs/alerts.md)", body = JsonObject),
        (status = 400, description = "an invalid filter, naming it", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn causes(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<CauseQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let storage = state.storage.as_ref();
    let locale = accounts::tenant_locale(storage, caller.tenant_id).await?;
    let request = query(q)?.parse(&caller, &locale, state.clock.now(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let page = triage::causes(storage, caller.tenant_id, &request).await?;
    Ok(Json(json!({
        "items": page.rows,
        "next": page.next.map(|cursor| cursor.encode()),
        "total": page.total,
        "limit": request.limit,
        "time_zone": locale.time_zone(),
    })))
}

/// `POST /v1/alerts/acknowledge`.
#[utoipa::path(
    post, path = "/v1/alerts/acknowledge", tag = "alerts",
    request_body = TriageBody,
    responses(
        (status = 200, description = "acknowledges an alert, with an optional `note`; answers `{alert}` as it now is", body = JsonObject),
        (status = 400, description = "bad input, naming it: nothing changed", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "the caller may not act on alerts", body = ErrorBody),
        (status = 404, description = "no such alert in the caller's scope", body = ErrorBody),
        (status = 409, description = "the alert is closed", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    b: Result<Json<TriageBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b)?;
    let note = b.note.unwrap_or_default();
    triage::acknowledge(state.storage.as_ref(), &caller, &b.key, &note, state.clock.now()).await?;
    answer(&state, &caller, &b.key).await
}

/// `POST /v1/alerts/snooze`.
#[utoipa::path(
    post, path = "/v1/alerts/snooze", tag = "alerts",
    request_body = TriageBody,
    responses(
        (status = 200, description = "snoozes an alert `until` a day (`YYYY-MM-DD`, the tenant's zone); answers `{alert}` as it now is", body = JsonObject),
        (status = 400, description = "bad input, naming it: nothing changed", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "the caller may not act on alerts", body = ErrorBody),
        (status = 404, description = "no such alert in the caller's scope", body = ErrorBody),
        (status = 409, description = "the alert is closed", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn snooze(
    State(state): State<AppState>,
    caller: Caller,
    b: Result<Json<TriageBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b)?;
    let storage = state.storage.as_ref();
    let locale = accounts::tenant_locale(storage, caller.tenant_id).await?;
    let until = b.until.unwrap_or_default();
    triage::snooze(storage, &caller, &b.key, &until, &locale, state.clock.now()).await?;
    answer(&state, &caller, &b.key).await
}

/// `POST /v1/alerts/reassign`.
#[utoipa::path(
    post, path = "/v1/alerts/reassign", tag = "alerts",
    request_body = TriageBody,
    responses(
        (status = 200, description = "gives an alert to another user in scope (`assignee`, a username); answers `{alert}` as it now is", body = JsonObject),
        (status = 400, description = "bad input, naming it: nothing changed", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "the caller may not act on alerts", body = ErrorBody),
        (status = 404, description = "no such alert in the caller's scope", body = ErrorBody),
        (status = 409, description = "the alert is closed", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reassign(
    State(state): State<AppState>,
    caller: Caller,
    b: Result<Json<TriageBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(b)?;
    let assignee = b.assignee.unwrap_or_default();
    triage::reassign(state.storage.as_ref(), &caller, &b.key, &assignee, state.clock.now()).await?;
    answer(&state, &caller, &b.key).await
}
