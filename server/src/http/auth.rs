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
use crate::services::accounts::{self, LoginRequest, LoginResponse};
use crate::state::AppState;

/// Logs in and issues a token for a new device.
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
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let token = bearer_token(&headers)?;
    accounts::logout(state.storage.as_ref(), token).await?;
    Ok(StatusCode::NO_CONTENT)
}
