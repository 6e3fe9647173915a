//! HQ's remote wipe over HTTP: `POST /v1/devices/{id}/revoke` and `POST /v1/users/{username}/disable`.
//!
//! Both answer `200` with what was revoked; a caller who is not HQ gets 403, an unknown device
//! or user (or another tenant's) 404, the caller's own device or user 409. The phone learns it
//! at its next contact (a 401 with code `revoked`) and erases its local data.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use crate::error::Error;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::openapi::JsonObject;
use crate::services::accounts::{self, Caller};
use crate::state::AppState;

fn path_value(path: Result<Path<String>, PathRejection>, what: &str) -> Result<String, ApiError> {
    path.map(|Path(value)| value)
        .map_err(|rejection| Error::bad_request("invalid-input", format!("{what}: {rejection}")).into())
}

/// `POST /v1/devices/{id}/revoke`.
#[utoipa::path(
    post, path = "/v1/devices/{id}/revoke", tag = "admin",
    params(("id" = String, Path, description = "the device id")),
    responses(
        (status = 200, description = "the device is revoked: its phone erases its data", body = JsonObject),
        (status = 400, description = "invalid id", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "not HQ", body = ErrorBody),
        (status = 404, description = "no such device in the tenant", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_device(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let device_id = path_value(path, "device id")?;
    accounts::revoke_device_as(state.storage.as_ref(), &caller, &device_id).await?;
    tracing::warn!(device = %device_id, by = %caller.username, "device revoked");
    Ok(Json(json!({ "device_id": device_id, "revoked": true })))
}

/// `POST /v1/users/{username}/disable`.
#[utoipa::path(
    post, path = "/v1/users/{username}/disable", tag = "admin",
    params(("username" = String, Path, description = "the username")),
    responses(
        (status = 200, description = "the user is disabled: their phones erase their data", body = JsonObject),
        (status = 400, description = "invalid username", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "not HQ", body = ErrorBody),
        (status = 404, description = "no such user in the tenant", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn disable_user(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let username = path_value(path, "username")?;
    let user = accounts::disable_user_as(state.storage.as_ref(), &caller, &username).await?;
    tracing::warn!(user = %user.username, by = %caller.username, "user disabled");
    Ok(Json(json!({ "username": user.username, "user_id": user.id, "disabled": true })))
}
