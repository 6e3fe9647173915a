//! `/v1/api-keys`: HQ creates, lists and revokes the API keys of its integrations
//! ([`accounts`]'s key rules; `docs/integrations.md`). Only a person signed in as HQ manages keys:
//! a key cannot make or revoke another. The key itself is in the creation's answer and nowhere
//! else.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::Error;
use crate::http::error::{ApiError, ErrorBody};
use crate::services::accounts::{self, Caller};
use crate::state::AppState;
use crate::storage::ApiKeyRecord;

/// A new key: its name and scopes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// 1 to 64 of `a-z 0-9 - _ .`, starting with a letter or digit; unique among the live keys.
    pub name: String,
    /// At least one of `events:read`, `imports:write`.
    pub scopes: Vec<String>,
}

/// An API key as HQ sees it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    /// The key's id (what revoking names).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its first characters, to recognise it.
    pub prefix: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// Who created it: a user id, or `cli`.
    pub created_by: String,
    /// Creation time, ms since the Unix epoch.
    pub created_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
    /// When it was last accepted.
    pub last_used_at: Option<i64>,
    /// How many requests it authenticated.
    pub use_count: i64,
}

impl From<ApiKeyRecord> for KeyView {
    fn from(record: ApiKeyRecord) -> Self {
        KeyView {
            scopes: accounts::scopes_of(&record).iter().map(|s| s.as_str().to_owned()).collect(),
            id: record.id,
            name: record.name,
            prefix: record.prefix,
            created_by: record.created_by,
            created_at: record.created_at,
            revoked_at: record.revoked_at,
            last_used_at: record.last_used_at,
            use_count: record.use_count,
        }
    }
}

/// A key just created, with the key itself, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKeyView {
    /// The whole key (`fsk_…`): send it as `Authorization: Bearer <key>`. Not stored; not shown again.
    pub key: String,
    /// The key's record.
    #[serde(flatten)]
    pub record: KeyView,
}

/// The tenant's keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    /// Newest first, revoked ones included.
    pub keys: Vec<KeyView>,
}

/// Creates an API key.
#[utoipa::path(
    post, path = "/v1/api-keys", tag = "integrations",
    request_body = NewKeyRequest,
    responses(
        (status = 201, description = "the key, shown once", body = CreatedKeyView),
        (status = 400, description = "invalid name or scope", body = ErrorBody),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not HQ, or an api key", body = ErrorBody),
        (status = 409, description = "a live key has this name", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewKeyRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedKeyView>), ApiError> {
    caller.require_hq_person("refusal-action-manage-api-keys")?;
    let Json(request) = body.map_err(|e| Error::bad_request("invalid-json", e.body_text()))?;
    let scopes = accounts::parse_scopes(&request.scopes)?;
    let created =
        accounts::create_api_key(state.storage.as_ref(), caller.tenant_id, &request.name, &scopes, &caller.user_id)
            .await?;
    Ok((StatusCode::CREATED, Json(CreatedKeyView { key: created.key, record: created.record.into() })))
}

/// Lists the tenant's API keys, with when each was last used and how often.
#[utoipa::path(
    get, path = "/v1/api-keys", tag = "integrations",
    responses(
        (status = 200, description = "the keys", body = KeyList),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not HQ, or an api key", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<KeyList>, ApiError> {
    caller.require_hq_person("refusal-action-manage-api-keys")?;
    let keys = accounts::list_api_keys(state.storage.as_ref(), caller.tenant_id).await?;
    Ok(Json(KeyList { keys: keys.into_iter().map(KeyView::from).collect() }))
}

/// Revokes an API key: refused from its next request on, on every relay node.
#[utoipa::path(
    post, path = "/v1/api-keys/{id}/revoke", tag = "integrations",
    params(("id" = String, Path, description = "the key's id")),
    responses(
        (status = 200, description = "the revoked key", body = KeyView),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not HQ, or an api key", body = ErrorBody),
        (status = 404, description = "no such key in the tenant", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<KeyView>, ApiError> {
    caller.require_hq_person("refusal-action-manage-api-keys")?;
    let record = accounts::revoke_api_key(state.storage.as_ref(), caller.tenant_id, &id).await?;
    Ok(Json(record.into()))
}
