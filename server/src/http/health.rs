//! `GET /healthz`, `GET /metrics`, and [`track`], the middleware that counts every request.

use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fieldsync_core::Role;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::http::caller::bearer_token;
use crate::http::error::ApiError;
use crate::http::error::ErrorBody;
use crate::http::openapi::Health;
use crate::services::accounts::Caller;
use crate::state::AppState;

/// 200 `{"status":"ok"}` when storage answers a trivial query, 503 otherwise. No token needed.
#[utoipa::path(
    get, path = "/healthz", tag = "admin",
    responses(
        (status = 200, description = "storage answers", body = Health),
        (status = 503, description = "storage does not answer", body = Health),
    ),
)]
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.storage.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response(),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            let body = json!({
                "status": "unavailable",
                "error": { "code": "storage-unavailable", "message": "storage does not answer" },
            });
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

fn same_secret(a: &str, b: &str) -> bool {
    // Digests have one length whatever the token's, so not even the length shows.
    Sha256::digest(a.as_bytes()).ct_eq(&Sha256::digest(b.as_bytes())).into()
}

/// Prometheus metrics. Counters span all tenants, so they are for operators: the bearer token
/// must be the configured metrics token, or an HQ user's token.
#[utoipa::path(
    get, path = "/metrics", tag = "admin",
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "not HQ and not the metrics token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = bearer_token(&headers)?;
    let operator = state.config.metrics_token.as_deref().is_some_and(|secret| same_secret(secret, token));
    if !operator {
        let caller: Caller = crate::services::accounts::authenticate(state.storage.as_ref(), token).await?;
        if caller.role != Role::Hq {
            return Err(Error::Forbidden(format!("metrics are for hq users, not a {}", caller.role)).into());
        }
    }
    let mut response = state.metrics.render().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(crate::metrics::CONTENT_TYPE));
    Ok(response)
}

/// Middleware (`from_fn_with_state`) counting each request by method, route template and status
/// class, and server errors.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let response = next.run(request).await;
    let status = response.status();
    let elapsed = started.elapsed();
    state.metrics.http_request(&method, &route, status.as_u16(), elapsed);
    if status.is_server_error() {
        state.metrics.error("http-5xx");
    }
    tracing::debug!(%method, %route, status = status.as_u16(), elapsed_ms = elapsed.as_millis() as u64, "request");
    response
}
