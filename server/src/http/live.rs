//! `GET /v1/ws`: live sync over WebSocket.
//!
//! The upgrade is authenticated by the bearer token only ([`crate::http::caller`] refuses the dashboard
//! cookie on any upgrade), and a browser's `Origin`, when sent, must be the relay's own host:
//! phones send none, and a page on another site cannot open the channel.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::response::Response;

use crate::error::Error;
use crate::http::SYNC_BODY_LIMIT;
use crate::http::error::{ApiError, ErrorBody};
use crate::services::accounts::Caller;
use crate::state::AppState;

/// Upgrades to the live channel.
#[utoipa::path(
    get, path = "/v1/ws", tag = "sync",
    responses(
        (status = 101, description = "the live channel (WebSocket, docs/protocol.md)"),
        (status = 400, description = "not a WebSocket upgrade", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 403, description = "a foreign Origin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    check_origin(&headers)?;
    // axum's own refusal is plain text; answer in the relay's error shape.
    let upgrade = upgrade.map_err(|rejection| {
        Error::bad_request("not-websocket", format!("not a WebSocket upgrade: {}", rejection.body_text()))
    })?;
    Ok(upgrade
        .max_message_size(SYNC_BODY_LIMIT)
        .read_buffer_size(state.config.live_read_buffer)
        .on_upgrade(move |socket| crate::sync::live::session(state, caller, socket)))
}

/// Refuses an upgrade whose `Origin` is not the relay's own host (`Host`), with 403. No `Origin`
/// (a phone, a script) passes; `Origin: null` (a sandboxed or file page) does not.
pub fn check_origin(headers: &HeaderMap) -> Result<(), Error> {
    let Some(origin) = headers.get(ORIGIN) else { return Ok(()) };
    let origin = origin.to_str().unwrap_or("");
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if same_host(origin, host) {
        Ok(())
    } else {
        let shown: String = origin.chars().take(100).collect();
        Err(Error::Forbidden(format!(
            "origin {shown:?} may not open the live channel: only pages served by this relay ({host}) may"
        )))
    }
}

/// Whether `origin` (`scheme://host[:port]`) names `host` (`host[:port]` from the `Host` header),
/// a default port written or left out on either side.
fn same_host(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let normal = |authority: &str| {
        let authority = authority.to_ascii_lowercase();
        match authority.strip_suffix(&format!(":{default_port}")) {
            Some(bare) => bare.to_owned(),
            None => authority,
        }
    };
    !host.is_empty() && !authority.is_empty() && !authority.contains('/') && normal(authority) == normal(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_matches_only_the_relays_own_host() {
        assert!(same_host("https://relay.example.com", "relay.example.com"));
        assert!(same_host("https://relay.example.com", "relay.example.com:443"));
        assert!(same_host("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_host("HTTP://Relay.Example.com", "relay.example.com"));
        assert!(!same_host("https://evil.example", "relay.example.com"));
        assert!(!same_host("https://relay.example.com.evil.example", "relay.example.com"));
        assert!(!same_host("http://127.0.0.1:9999", "127.0.0.1:8080"));
        assert!(!same_host("https://relay.example.com:8443", "relay.example.com"));
        assert!(!same_host("null", "relay.example.com"));
        assert!(!same_host("ftp://relay.example.com", "relay.example.com"));
        assert!(!same_host("https://relay.example.com", ""));
    }
}
