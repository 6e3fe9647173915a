//! Headers every response carries, whatever route answered.
//!
//! - `X-Content-Type-Options: nosniff`: a browser renders a response only as its declared type,
//!   so a photo (or a JSON error) can never be sniffed into HTML or script.
//! - `Strict-Transport-Security` when browsers reach the relay over HTTPS
//!   ([`crate::config::Config::behind_https`]): after one visit they refuse plain HTTP for a year,
//!   so the session cookie cannot be stripped onto an unencrypted connection. No
//!   `includeSubDomains`: the relay's host name says nothing about its siblings.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// The HSTS policy sent behind HTTPS: one year.
pub const HSTS: &str = "max-age=31536000";

/// Middleware (`from_fn_with_state`) adding the headers above to every response.
pub async fn add(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if state.config.behind_https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    response
}
