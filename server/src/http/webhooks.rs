//! Event subscriptions (signed webhooks, `docs/events.md`), managed by HQ:
//! `GET /v1/webhooks` (each with its cursor and dead letters), `POST /v1/webhooks`
//! (`{url, secret, types}`), `DELETE /v1/webhooks/{id}`, `POST /v1/webhooks/{id}/replay?after=N`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::lists::query;
use crate::http::openapi::{Subscription, SubscriptionList};
use crate::services::accounts::Caller;
use crate::services::events::FeedQuery;
use crate::services::events::webhooks::{self, SubscriptionState};
use crate::state::AppState;

/// `POST /v1/webhooks` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewSubscription {
    /// An http:// or https:// URL with a host.
    #[schema(
        pattern = "^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$",
        max_length = 2048
    )]
    pub url: String,
    /// The signing secret (at least 16 characters).
    #[schema(min_length = 16)]
    pub secret: String,
    /// Comma-separated event types; absent or empty: all.
    #[serde(default)]
    #[schema(
        pattern = "^((order\\.(submitted|reviewed|step-decided|approved|rejected|escalated)|inspection\\.(checked-out|scored)|photo\\.reviewed|alert\\.(opened|closed|acknowledged)|import\\.applied)(,(order\\.(submitted|reviewed|step-decided|approved|rejected|escalated)|inspection\\.(checked-out|scored)|photo\\.reviewed|alert\\.(opened|closed|acknowledged)|import\\.applied))*)?$"
    )]
    pub types: String,
}

/// `?after=N` of a replay.
#[derive(Debug, Deserialize)]
pub struct ReplayQuery {
    /// Events after this position are sent again.
    pub after: Option<String>,
}

fn state_json(state: &SubscriptionState) -> Value {
    let s = &state.subscription;
    json!({
        "id": s.id,
        "url": s.url,
        "types": s.types,
        "created_at": s.created_at,
        "cursor": state.cursor.to_string(),
        "dead_letters": state.dead_letters.iter().map(|d| json!({
            "cursor": d.seq.to_string(),
            "event_id": d.event_id,
            "type": d.event_type,
            "attempts": d.attempts,
            "last_error": d.last_error,
            "failed_at": d.failed_at,
        })).collect::<Vec<_>>(),
    })
}

/// `GET /v1/webhooks`.
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "events",
    responses(
        (status = 200, description = "the tenant's subscriptions, each with its cursor and dead letters", body = SubscriptionList),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not HQ, or an api key", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    webhooks::authorize(&caller)?;
    let states = webhooks::list(state.storage.as_ref(), caller.tenant_id).await?;
    Ok(Json(json!({ "subscriptions": states.iter().map(state_json).collect::<Vec<_>>() })))
}

/// `POST /v1/webhooks`: the new subscription (its secret is not echoed).
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "events",
    request_body = NewSubscription,
    responses(
        (status = 201, description = "the subscription, from the next event on (its secret is not echoed)", body = Subscription),
        (status = 400, description = "a bad body, URL, secret or event type (`invalid-input`, `invalid-webhook`, `invalid-event-type`)", body = ErrorBody),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not HQ, or an api key", body = ErrorBody),
        (status = 413, description = "body above the JSON limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewSubscription>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    webhooks::authorize(&caller)?;
    let Json(body) =
        body.map_err(|e| Error::bad_request("invalid-input", format!("invalid body: {}", e.body_text())))?;
    let created =
        webhooks::subscribe(state.storage.as_ref(), caller.tenant_id, &body.url, &body.secret, &body.types).await?;
    let cursor = state.storage.event_cursor(&webhooks::destination(&created.id), caller.tenant_id).await?;
    let shown = SubscriptionState { subscription: created, cursor, dead_letters: Vec::new() };
    Ok((StatusCode::CREATED, Json(state_json(&shown))))
}

/// `DELETE /v1/webhooks/{id}`.
#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "events",
    params(("id" = String, Path, description = "the subscription's id")),
    responses(
        (status = 204, description = "deleted: nothing more is sent to it"),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not HQ, or an api key", body = ErrorBody),
        (status = 404, description = "no such subscription in the tenant", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    webhooks::authorize(&caller)?;
    webhooks::unsubscribe(state.storage.as_ref(), caller.tenant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/webhooks/{id}/replay?after=N`: sends the events after `N` again.
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/replay", tag = "events",
    params(
        ("id" = String, Path, description = "the subscription's id"),
        ("after" = Option<String>, Query, description = "events after this cursor are sent again (`0`: all); absent: all"),
    ),
    responses(
        (status = 204, description = "the subscription's cursor is set: the events after it are sent again"),
        (status = 400, description = "a cursor that is not a position of this feed (`invalid-cursor`)", body = ErrorBody),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not HQ, or an api key", body = ErrorBody),
        (status = 404, description = "no such subscription in the tenant", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    q: Result<Query<ReplayQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    webhooks::authorize(&caller)?;
    let q = query(q)?;
    // The feed's own reading of a cursor: absent or empty is the beginning.
    let after = FeedQuery { after: q.after, ..FeedQuery::default() }.parse()?.after;
    webhooks::replay(state.storage.as_ref(), caller.tenant_id, &id, after).await?;
    Ok(StatusCode::NO_CONTENT)
}
