//! `POST /v1/auth/login` and `POST /v1/auth/logout`.
//!
//! Login takes `{tenant, username, password, device_name}` and answers `{token, user_id, role,
//! region, device_id, expires_at}`, `expires_at` in ms since the Unix epoch. Failed logins slow
//! further attempts per account and client address, and are limited per client address (429
//! with `Retry-After`); behind a trusted proxy the client address is the one it forwarded
//! ([`crate::http::client_address`]).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::{ExtensionRejection, JsonRejection};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};

use crate::error::Error;
use crate::http::caller::bearer_token;
use crate::http::client_address::client_address;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::services::accounts::{self, LoginRequest, LoginResponse};
use crate::state::AppState;

/// The login body (the phone's `LoginRequest`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct LoginBody {
    /// Tenant name.
    pub tenant: String,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
    /// A name for the device (1 to 100 characters).
    pub device_name: String,
}

/// The login answer (the phone's `Session`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct LoginAnswer {
    /// The bearer token.
    pub token: String,
    /// The user's id.
    pub user_id: String,
    /// `rep`, `supervisor`, `manager` or `hq`.
    pub role: String,
    /// The user's region, if any.
    pub region: Option<String>,
    /// The device registered for this login.
    pub device_id: String,
    /// When the token expires, ms since the Unix epoch.
    pub expires_at: i64,
}

/// Logs in and issues a token for a new device.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "sync",
    request_body = LoginBody,
    responses(
        (status = 200, description = "a session for a new device", body = LoginAnswer),
        (status = 400, description = "malformed body or invalid device name", body = ErrorBody),
        (status = 401, description = "unknown tenant, username or password", body = ErrorBody),
        (status = 413, description = "body too large", body = ErrorBody),
        (status = 429, description = "too many failed logins: wait Retry-After seconds", body = ErrorBody),
    ),
)]
pub async fn login(
    State(state): State<AppState>,
    connect: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    headers: HeaderMap,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<LoginResponse>, ApiError> {
    let Json(request) = body.map_err(|rejection| {
        Error::bad_request(
            "invalid-json",
            format!("expected {{tenant, username, password, device_name}}: {}", rejection.body_text()),
        )
    })?;
    // Served without connect info (tests driving the router directly) the address limit is skipped.
    let peer = connect.ok().map(|ConnectInfo(address)| address);
    let client = client_address(peer, &headers, &state.config.trusted_proxies);
    let result = accounts::login(state.storage.as_ref(), &state.login_limiter, &state.config, &request, client).await;
    match &result {
        Ok(_) => state.metrics.login(true),
        Err(Error::BadCredentials | Error::RateLimited { .. }) => state.metrics.login(false),
        Err(_) => {}
    }
    Ok(Json(result?))
}

/// Revokes the presented token (204).
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "sync",
    responses(
        (status = 204, description = "the presented token is revoked"),
        (status = 401, description = "no valid session", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let token = bearer_token(&headers)?;
    accounts::logout(state.storage.as_ref(), token).await?;
    Ok(StatusCode::NO_CONTENT)
}
